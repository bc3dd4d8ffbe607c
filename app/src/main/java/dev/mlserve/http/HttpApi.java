package dev.mlserve.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.errors.ServingException;
import dev.mlserve.metrics.LiveStats;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.model.Identifiers;
import dev.mlserve.model.ModelRegistry;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import dev.mlserve.predict.Prediction;
import dev.mlserve.predict.PredictionService;
import dev.mlserve.predict.Route;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFactory JSON = MAPPER.getFactory();

  private final ServerConfig config;
  private final PredictionService predictions;
  private final ModelRegistry registry;
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
    this.registry = predictions.registry();
    this.metrics = metrics;
    this.state = state;
    this.requestLog = new RequestLog(metrics);
    JsonValues values = new JsonValues(config.limits().maxTextChars());
    this.tfServing = new TfServingApi(values);
    this.v2 = new V2Api(values);
    this.homePage = new HomePage(registry);
    this.auth = BearerAuth.create(config.auth());
    this.live = new LiveView(registry, new LiveStats(metrics));
  }

  /** An unstarted server with every route; the caller starts and stops it. */
  public Javalin create() {
    return Javalin.create(
        c -> {
          c.startup.showJavalinBanner = false;
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

          c.routes.exception(
              ServingException.class, (e, ctx) -> fail(ctx, e.status(), e.getMessage(), e));
          c.routes.exception(
              CompletionException.class, (e, ctx) -> failUnwrapped(ctx, e.getCause()));
          c.routes.exception(
              HttpResponseException.class, (e, ctx) -> fail(ctx, e.getStatus(), e.getMessage(), e));
          c.routes.exception(Exception.class, (e, ctx) -> failUnwrapped(ctx, e));
          c.routes.error(
              404,
              ctx -> {
                if (ctx.result() == null || ctx.result().isEmpty()) {
                  fail(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path(), null);
                }
              });
          c.routes.error(
              405,
              ctx -> {
                if (ctx.result() == null || ctx.result().isEmpty()) {
                  fail(ctx, 405, "method " + ctx.method() + " not allowed on " + ctx.path(), null);
                }
              });
        });
  }

  // ---- lifecycle of every request

  private void begin(Context ctx) {
    state.enter();
    ctx.attribute(RequestLog.START, System.nanoTime());
    String id = ctx.header("X-Request-Id");
    if (id == null || !REQUEST_ID.matcher(id).matches()) {
      id = UUID.randomUUID().toString();
    }
    ctx.attribute(RequestLog.REQUEST_ID, id);
    ctx.header("X-Request-Id", id);
  }

  private void end(Context ctx) {
    if (state.draining()) {
      ctx.header("Connection", "close"); // let clients move to another task while we drain
    }
    state.leave();
  }

  // ---- TensorFlow Serving

  private void tfGet(Context ctx) {
    TfServingApi.Target t = TfServingApi.parsePath(ctx.pathParam("rest"));
    ctx.attribute(RequestLog.API, "tfserving");
    ctx.attribute(RequestLog.MODEL, t.model());
    switch (t.verb()) {
      case "" -> writeJson(ctx, 200, g -> TfServingApi.writeStatus(g, registry, t));
      case "/metadata" -> {
        OptionalLong v = t.version();
        if (t.label().isPresent()) {
          v = OptionalLong.of(registry.resolveLabel(t.model(), t.label().get()));
        }
        ModelVersion mv = registry.acquire(t.model(), v);
        try {
          writeJson(ctx, 200, g -> TfServingApi.writeMetadata(g, mv));
        } finally {
          mv.release();
        }
      }
      default -> throw ServingException.badRequest(t.verb().substring(1) + " needs POST");
    }
  }

  private void tfPost(Context ctx) {
    TfServingApi.Target t = TfServingApi.parsePath(ctx.pathParam("rest"));
    ctx.attribute(RequestLog.API, "tfserving");
    ctx.attribute(RequestLog.MODEL, t.model());
    if (!t.verb().equals(":predict")) {
      throw ServingException.notFound(
          "unsupported method '" + t.verb() + "': this server implements :predict");
    }
    JsonNode body = readBody(ctx);
    String signature = TfServingApi.signatureName(body);
    boolean rowFormat = TfServingApi.rowFormat(body);
    CompletableFuture<Prediction> result =
        run(
            ctx,
            t.model(),
            t.version(),
            t.label(),
            signature,
            spec -> tfServing.parseInputs(spec, body));
    ctx.future(
        () ->
            result.thenAccept(
                p -> {
                  answer(ctx, p, g -> TfServingApi.writePrediction(g, p, rowFormat));
                }));
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
    ctx.attribute(RequestLog.API, "v2");
    ctx.attribute(RequestLog.MODEL, model);
    ModelVersion mv = registry.acquire(model, version);
    try {
      java.util.List<Long> versions =
          version.isPresent() ? java.util.List.of(mv.version()) : registry.liveVersions(model);
      writeJson(ctx, 200, g -> V2Api.writeModelMetadata(g, mv, versions));
    } finally {
      mv.release();
    }
  }

  private void v2ModelReady(Context ctx, OptionalLong version) {
    String model = Identifiers.requireName("model name", ctx.pathParam("model"));
    ModelVersion mv = registry.acquire(model, version); // 404 / 503 when not live
    mv.release();
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
    ctx.attribute(RequestLog.API, "v2");
    ctx.attribute(RequestLog.MODEL, model);
    JsonNode body = readBody(ctx);
    String signature = V2Api.signatureName(body);
    String id = body.hasNonNull("id") ? body.get("id").asText() : null;
    Set<String>[] wanted = new Set[1];
    CompletableFuture<Prediction> result =
        run(
            ctx,
            model,
            version,
            Optional.empty(),
            signature,
            spec -> {
              wanted[0] = V2Api.requestedOutputs(body, spec);
              return v2.parseInputs(spec, body);
            });
    ctx.future(
        () -> result.thenAccept(p -> answer(ctx, p, g -> V2Api.writeInfer(g, p, id, wanted[0]))));
  }

  // ---- shared

  private interface InputParser {
    Map<String, Values> parse(SignatureSpec spec);
  }

  private interface JsonBody {
    void write(JsonGenerator g) throws IOException;
  }

  /** Routes, parses for the chosen version's signature, and predicts. */
  private CompletableFuture<Prediction> run(
      Context ctx,
      String model,
      OptionalLong version,
      Optional<String> label,
      String signature,
      InputParser parser) {
    Route route = predictions.route(model, version, label, ctx::header);
    SignatureSpec spec;
    Map<String, Values> inputs;
    try {
      spec = route.model().signature(signature);
      inputs = parser.parse(spec);
    } catch (RuntimeException e) {
      route.release();
      throw e;
    }
    return predictions.predict(route, ctx.attribute(RequestLog.REQUEST_ID), spec, inputs);
  }

  private void answer(Context ctx, Prediction p, JsonBody body) {
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

  private JsonNode readBody(Context ctx) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > config.limits().maxBodyBytes()) {
      throw ServingException.tooLarge(
          "request body of "
              + declared
              + " bytes is over the limit of "
              + config.limits().maxBodyBytes());
    }
    byte[] raw = ctx.bodyAsBytes();
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

  private static void writeJson(Context ctx, int status, JsonBody body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ctx.status(status).contentType("application/json").result(out.toByteArray());
  }

  private void failUnwrapped(Context ctx, Throwable e) {
    while ((e instanceof CompletionException
            || e instanceof java.util.concurrent.ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof ServingException se) {
      fail(ctx, se.status(), se.getMessage(), se);
    } else if (e instanceof HttpResponseException he) {
      fail(ctx, he.getStatus(), he.getMessage(), he);
    } else {
      fail(ctx, 500, "internal error (request id " + ctx.attribute(RequestLog.REQUEST_ID) + ")", e);
    }
  }

  private void fail(Context ctx, int status, String message, Throwable cause) {
    requestLog.failed(ctx, status, message, cause);
    json(ctx, status, g -> g.writeStringField("error", message));
  }
}
