package dev.mlserve.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.config.Identifiers;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.errors.ServingException;
import dev.mlserve.errors.ServingException.BadInput;
import dev.mlserve.errors.ServingException.Internal;
import dev.mlserve.errors.ServingException.ModelRejected;
import dev.mlserve.errors.ServingException.NotFound;
import dev.mlserve.errors.ServingException.Overloaded;
import dev.mlserve.errors.ServingException.Unavailable;
import dev.mlserve.metrics.LiveStats;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.predict.ModelView;
import dev.mlserve.predict.PredictRequest;
import dev.mlserve.predict.PredictResult;
import dev.mlserve.predict.PredictionService;
import io.javalin.Javalin;
import io.javalin.http.ContentTooLargeResponse;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole HTTP surface in one table: TensorFlow Serving REST, the V2 inference protocol, health,
 * metrics and the home page. Handlers parse, delegate to {@link PredictionService}, and answer;
 * every failure becomes {@code {"error": "..."}} with its status in one place.
 */
public final class HttpApi {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  /**
   * Request and answer JSON. Jackson's default buffer pool is per thread, which on virtual request
   * threads (one new thread per request) means fresh parser and generator buffers for every
   * request; a shared pool hands the same few buffers from request to request.
   */
  private static final JsonFactory JSON =
      JsonFactory.builder().recyclerPool(JsonRecyclerPools.newConcurrentDequePool()).build();

  private static final ObjectMapper MAPPER = new ObjectMapper(JSON);

  private final ServerConfig config;
  private final PredictionService predictions;
  private final ServingMetrics metrics;
  private final ServerState state;
  private final RequestLog requestLog;
  private final TfServingApi tfServing;
  private final V2Api v2;
  private final HomePage homePage;
  private final BearerAuth auth;
  private final LiveView live;

  public HttpApi(
      ServerConfig config,
      PredictionService predictions,
      ServingMetrics metrics,
      ServerState state) {
    this.config = config;
    this.predictions = predictions;
    this.metrics = metrics;
    this.state = state;
    this.requestLog = new RequestLog(metrics, !config.logFormat().equals("json"));
    JsonValues values = new JsonValues(config.limits().maxTextChars());
    this.tfServing = new TfServingApi(values);
    this.v2 = new V2Api(values);
    this.homePage = new HomePage(predictions);
    this.auth = BearerAuth.create(config.auth());
    this.live = new LiveView(predictions, new LiveStats(metrics));
  }

  /** An unstarted server with every route; the caller starts and stops it. */
  public Javalin create() {
    return Javalin.create(
        c -> {
          c.startup.showJavalinBanner = false;
          // Javalin keeps platform threads where the JVM has no virtual threads (Java 17-20)
          c.concurrency.useVirtualThreads = config.virtualThreads();
          c.jetty.port = config.port();
          c.http.maxRequestSize = config.limits().maxBodyBytes();
          c.http.asyncTimeout = 60_000;
          c.router.ignoreTrailingSlashes = true;

          c.routes.before(this::begin);
          c.routes.before(auth::check); // 401 unless a valid token, when API_TOKENS is set
          c.events.serverStopped(auth::close);
          c.routes.after(this::end);

          c.routes.get("/", ctx -> ctx.html(homePage.render()));
          c.routes.get("/ui/live.json", ctx -> json(ctx, 200, live::write));
          c.routes.get("/metrics", this::metrics);

          // TensorFlow Serving REST API
          c.routes.get("/v1/models/<rest>", this::tfGet);
          c.routes.post("/v1/models/<rest>", this::tfPost);

          // Open Inference Protocol (V2)
          c.routes.get("/v2", this::v2Server);
          c.routes.get("/v2/health/live", ctx -> json(ctx, 200, g -> field(g, "live", true)));
          c.routes.get("/v2/health/ready", this::v2Ready);
          c.routes.get("/v2/models/{model}", ctx -> v2Metadata(ctx, OptionalLong.empty()));
          c.routes.get(
              "/v2/models/{model}/versions/{version}", ctx -> v2Metadata(ctx, version(ctx)));
          c.routes.get("/v2/models/{model}/ready", ctx -> v2ModelReady(ctx, OptionalLong.empty()));
          c.routes.get(
              "/v2/models/{model}/versions/{version}/ready",
              ctx -> v2ModelReady(ctx, version(ctx)));
          c.routes.post("/v2/models/{model}/infer", ctx -> v2Infer(ctx, OptionalLong.empty()));
          c.routes.post(
              "/v2/models/{model}/versions/{version}/infer", ctx -> v2Infer(ctx, version(ctx)));

          c.routes.exception(ServingException.class, this::failServing);
          c.routes.exception(
              HttpResponseException.class, (e, ctx) -> fail(ctx, e.getStatus(), e.getMessage(), e));
          c.routes.exception(
              Exception.class,
              (e, ctx) -> fail(ctx, 500, "internal error (request id " + requestId(ctx) + ")", e));
          c.routes.error(
              404,
              ctx -> {
                if (unanswered(ctx)) {
                  fail(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path(), null);
                }
              });
          c.routes.error(
              405,
              ctx -> {
                if (unanswered(ctx)) {
                  fail(ctx, 405, "method " + ctx.method() + " not allowed on " + ctx.path(), null);
                }
              });
        });
  }

  // ---- lifecycle of every request

  private void begin(Context ctx) {
    state.enter();
    long start = System.nanoTime();
    String id = ctx.header("X-Request-Id");
    if (id == null || !REQUEST_ID.matcher(id).matches()) {
      id = newRequestId();
    }
    ctx.attribute(RequestLog.ENTRY, new RequestLog.Entry(start, id));
    ctx.header("X-Request-Id", id);
    if (state.draining()) {
      ctx.header("Connection", "close"); // let clients move to another task while we drain
    }
  }

  /**
   * A random (version 4) UUID from the thread's own generator. Request ids name a request in logs
   * and captures; they guard nothing, so they need no cryptographic generator ({@code
   * UUID.randomUUID()} takes SecureRandom's lock on every request).
   */
  static String newRequestId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long high = (r.nextLong() & ~0xF000L) | 0x4000L; // version 4
    long low = (r.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L; // RFC 4122 variant
    return new UUID(high, low).toString();
  }

  private void end(Context ctx) {
    state.leave();
  }

  // ---- TensorFlow Serving

  private void tfGet(Context ctx) {
    TfServingApi.Target t = TfServingApi.parsePath(ctx.pathParam("rest"));
    RequestLog.entry(ctx).name("tfserving", t.model());
    switch (t.verb()) {
      case "" -> {
        ModelView model = predictions.model(t.model());
        OptionalLong wanted =
            t.label().isPresent()
                ? OptionalLong.of(predictions.resolveLabel(t.model(), t.label().get()))
                : t.version();
        writeJson(ctx, 200, g -> g.writeObject(TfServingApi.status(model, wanted)));
      }
      case "/metadata" -> {
        ModelView.Version mv = predictions.describe(t.model(), t.version(), t.label());
        writeJson(ctx, 200, g -> g.writeObject(TfServingApi.metadata(mv)));
      }
      default -> throw ServingException.badRequest(t.verb().substring(1) + " needs POST");
    }
  }

  private void tfPost(Context ctx) {
    TfServingApi.Target t = TfServingApi.parsePath(ctx.pathParam("rest"));
    RequestLog.entry(ctx).name("tfserving", t.model());
    if (!t.verb().equals(":predict")) {
      throw ServingException.notFound(
          "unsupported method '" + t.verb() + "': this server implements :predict");
    }
    JsonNode body = readBody(ctx);
    String signature = TfServingApi.signatureName(body);
    boolean rowFormat = TfServingApi.rowFormat(body);
    PredictResult p =
        predictions.predict(
            new PredictRequest(
                requestId(ctx),
                t.model(),
                t.version(),
                t.label(),
                signature,
                tfServing.parseInputs(body),
                Set.of(),
                ctx::header));
    answer(ctx, p, g -> TfServingApi.writePrediction(g, p, rowFormat));
  }

  // ---- V2

  private void v2Server(Context ctx) {
    json(
        ctx,
        200,
        g -> {
          g.writeStringField("name", "ml-serve-ecs");
          g.writeStringField(
              "version",
              HttpApi.class.getPackage().getImplementationVersion() == null
                  ? "dev"
                  : HttpApi.class.getPackage().getImplementationVersion());
          g.writeArrayFieldStart("extensions");
          g.writeEndArray();
        });
  }

  private void v2Ready(Context ctx) {
    if (state.ready()) {
      json(ctx, 200, g -> field(g, "ready", true));
    } else {
      json(
          ctx,
          503,
          g -> {
            g.writeBooleanField("ready", false);
            g.writeStringField("error", "not ready: " + state.notReadyReason());
          });
    }
  }

  private void v2Metadata(Context ctx, OptionalLong version) {
    String model = Identifiers.requireName("model name", ctx.pathParam("model"));
    RequestLog.entry(ctx).name("v2", model);
    ModelView.Version mv = predictions.describe(model, version, Optional.empty());
    List<Long> versions =
        version.isPresent() ? List.of(mv.version()) : predictions.model(model).live();
    writeJson(ctx, 200, g -> g.writeObject(V2Api.modelMetadata(mv, versions)));
  }

  private void v2ModelReady(Context ctx, OptionalLong version) {
    String model = Identifiers.requireName("model name", ctx.pathParam("model"));
    predictions.describe(model, version, Optional.empty()); // not found / unavailable when not live
    json(
        ctx,
        200,
        g -> {
          g.writeStringField("name", model);
          g.writeBooleanField("ready", true);
        });
  }

  private void v2Infer(Context ctx, OptionalLong version) {
    String model = Identifiers.requireName("model name", ctx.pathParam("model"));
    RequestLog.entry(ctx).name("v2", model);
    JsonNode body = readBody(ctx);
    String id = body.hasNonNull("id") ? body.get("id").asText() : null;
    PredictResult p =
        predictions.predict(
            new PredictRequest(
                requestId(ctx),
                model,
                version,
                Optional.empty(),
                V2Api.signatureName(body),
                v2.parseInputs(body),
                V2Api.requestedOutputs(body),
                ctx::header));
    answer(ctx, p, g -> V2Api.writeInfer(g, p, id));
  }

  // ---- shared

  private interface JsonBody {
    void write(JsonGenerator g) throws IOException;
  }

  private void answer(Context ctx, PredictResult p, JsonBody body) {
    ctx.header("X-Model-Name", p.model());
    ctx.header("X-Model-Version", Long.toString(p.version()));
    if (!p.variant().isEmpty()) {
      ctx.header("X-Variant", p.variant());
    }
    if (p.lowConfidenceRows().length > 0) {
      StringBuilder rows = new StringBuilder();
      for (int r : p.lowConfidenceRows()) {
        rows.append(rows.length() == 0 ? "" : ",").append(r);
      }
      ctx.header("X-Low-Confidence-Rows", rows.toString());
    }
    writeJson(ctx, 200, body);
    requestLog.ok(ctx, p);
  }

  private static String requestId(Context ctx) {
    return RequestLog.entry(ctx).requestId();
  }

  private JsonNode readBody(Context ctx) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > config.limits().maxBodyBytes()) {
      throw new ContentTooLargeResponse(
          "request body of "
              + declared
              + " bytes is over the limit of "
              + config.limits().maxBodyBytes());
    }
    byte[] raw = bodyBytes(ctx, declared);
    if (raw.length == 0) {
      throw ServingException.badRequest("the request body is empty; send a JSON object");
    }
    try {
      JsonNode node = MAPPER.readTree(raw);
      if (node == null || !node.isObject()) {
        throw ServingException.badRequest("the request body must be a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      String msg = e.getOriginalMessage();
      int source = msg.indexOf(" (start marker");
      msg = source > 0 ? msg.substring(0, source) : msg;
      throw ServingException.badRequest(
          "malformed JSON at line "
              + e.getLocation().getLineNr()
              + " column "
              + e.getLocation().getColumnNr()
              + ": "
              + (msg.length() > 200 ? msg.substring(0, 200) : msg));
    } catch (IOException e) {
      throw ServingException.badRequest("unreadable request body: " + e.getMessage());
    }
  }

  /**
   * The request body. With a declared length (most clients) it is read into an array of exactly
   * that size; Javalin's reader, used for a chunked body of unknown length, copies through a fresh
   * 8 KiB buffer and a growing one for every request, whatever the body's size.
   */
  private static byte[] bodyBytes(Context ctx, long declared) {
    if (declared < 0) {
      return ctx.bodyAsBytes(); // bounded by maxRequestSize: 413 past it
    }
    try {
      return ctx.req().getInputStream().readNBytes((int) declared); // a short body reads short
    } catch (IOException e) {
      throw ServingException.badRequest("unreadable request body: " + e.getMessage());
    }
  }

  private void metrics(Context ctx) {
    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
  }

  private static OptionalLong version(Context ctx) {
    return OptionalLong.of(Identifiers.requireVersion(ctx.pathParam("version")));
  }

  private static void field(JsonGenerator g, String name, boolean value) throws IOException {
    g.writeBooleanField(name, value);
  }

  /** Writes an object whose fields {@code body} fills. */
  private static void json(Context ctx, int status, JsonBody fields) {
    writeJson(
        ctx,
        status,
        g -> {
          g.writeStartObject();
          fields.write(g);
          g.writeEndObject();
        });
  }

  /** A reusable response buffer whose bytes go to the socket without another copy. */
  private static final class ResponseBuffer extends ByteArrayOutputStream {
    private static final int KEEP_AT_MOST = 64 * 1024;

    ResponseBuffer() {
      super(1024);
    }

    void writeTo(Context ctx) throws IOException {
      ctx.res().setContentLength(count);
      // a blocking write: when it returns, Jetty has sent or copied the bytes and buf is free again
      ctx.res().getOutputStream().write(buf, 0, count);
    }

    /** Empties the buffer for the next answer; a rare huge answer's array is not kept. */
    void recycle() {
      if (buf.length > KEEP_AT_MOST) {
        buf = new byte[1024];
      }
      reset();
    }
  }

  /**
   * Buffers shared by all requests. Not one per thread: a virtual request thread lives for one
   * request, so a per-thread buffer would be a new buffer (and thread-local map) per answer. At
   * most this many idle buffers are kept; more concurrent answers allocate and drop their own.
   */
  private static final BlockingQueue<ResponseBuffer> BUFFERS = new ArrayBlockingQueue<>(64);

  /** Serialises straight into a pooled buffer, then hands its bytes to Jetty once. */
  private static void writeJson(Context ctx, int status, JsonBody body) {
    ResponseBuffer out = BUFFERS.poll();
    if (out == null) {
      out = new ResponseBuffer();
    }
    try {
      try (JsonGenerator g = JSON.createGenerator(out)) {
        body.write(g);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      ctx.status(status).contentType("application/json");
      try {
        out.writeTo(ctx);
      } catch (IOException e) {
        // the client went away before its answer: nobody is left to tell, and nothing to undo
        log.debug("answer not delivered: {}", e.toString());
      }
    } finally {
      out.recycle();
      BUFFERS.offer(out);
    }
  }

  /**
   * The one table from domain errors to HTTP statuses. A model that refuses its input is the
   * input's fault (400, as TensorFlow Serving answers); overload and unavailability are 503 so that
   * load balancers and clients retry.
   */
  private static final Map<Class<? extends ServingException>, Integer> STATUS =
      Map.of(
          BadInput.class, 400,
          NotFound.class, 404,
          ModelRejected.class, 400,
          Overloaded.class, 503,
          Unavailable.class, 503,
          Internal.class, 500);

  private void failServing(ServingException e, Context ctx) {
    int status = STATUS.get(e.getClass());
    String message =
        status >= 500 && e instanceof Internal
            ? "internal error (request id " + requestId(ctx) + ")"
            : e.getMessage();
    fail(ctx, status, message, e);
  }

  /** Most bodies over this are not read to their end: the connection is closed instead. */
  private static final long MAX_DRAIN_BYTES = 64L * 1024 * 1024;

  /** Set by {@link #fail}: its answer goes straight to the response, not to ctx.result(). */
  private static final String ANSWERED = "mlserve.answered";

  /**
   * Whether an error status still needs its {"error"} body: Javalin runs its 404 and 405 handlers
   * after an exception handler that already answered (and logged) with that status.
   */
  private static boolean unanswered(Context ctx) {
    return ctx.attribute(ANSWERED) == null && (ctx.result() == null || ctx.result().isEmpty());
  }

  private void fail(Context ctx, int status, String message, Throwable cause) {
    ctx.attribute(ANSWERED, Boolean.TRUE);
    requestLog.failed(ctx, status, message, cause);
    if (status == 413) {
      drainBody(ctx, MAX_DRAIN_BYTES);
      ctx.header("Connection", "close");
    } else if (bodyUnread(ctx) && !drainBody(ctx, config.limits().maxBodyBytes())) {
      ctx.header("Connection", "close");
    }
    json(ctx, status, g -> g.writeStringField("error", message));
  }

  /**
   * Whether the request came with a body that no handler has read: a refusal before the body (a
   * 401, an unknown path or method). Left unread, Jetty cannot keep the connection and closes it
   * once the answer is out, without a {@code Connection: close} when the answer went out first: a
   * keep-alive client that sends its next request on it gets no reply.
   */
  private static boolean bodyUnread(Context ctx) {
    HttpServletRequest req = ctx.req();
    if (req.getContentLengthLong() <= 0 && req.getHeader("Transfer-Encoding") == null) {
      return false;
    }
    try {
      return !req.getInputStream().isFinished();
    } catch (IOException | IllegalStateException e) {
      return true; // read as a Reader, or the client is gone: drain fails and the answer closes
    }
  }

  /**
   * Reads and discards what is left of a refused body, up to {@code bound} bytes; returns whether
   * it reached the end. A client that writes its whole body before reading (Python's urllib and
   * many simple clients) then reads the error instead of a broken pipe from a socket closed under
   * its writes, and a keep-alive client can send its next request on the same connection.
   */
  private static boolean drainBody(Context ctx, long bound) {
    try {
      InputStream in = ctx.req().getInputStream();
      byte[] sink = new byte[64 * 1024];
      long total = 0;
      int n;
      while ((n = in.read(sink)) >= 0) {
        total += n;
        if (total > bound) {
          return false;
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false; // the client went away or the stream was consumed: the answer still goes out
    }
  }
}
