package dev.mlserve.http;

import static net.logstash.logback.argument.StructuredArguments.kv;

import dev.mlserve.errors.ServingException;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.predict.PredictResult;
import io.javalin.http.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line and one latency record per prediction or metadata request: api, model, version,
 * variant, rows, low-confidence rows, status and latency. In JSON logs these are top-level fields
 * (the infrastructure's metric filters read {@code event}, {@code rows}, {@code
 * low_confidence_rows}). The logger's appender is asynchronous (logback.xml): a request never waits
 * for its log line to be written.
 *
 * <p>In JSON logs the message is the bare event ({@code "predict"}, {@code "request failed"}): the
 * fields are already in the line, and repeating them as {@code key=value} text in the message would
 * double what each line costs to format, to write and to ingest into CloudWatch Logs. Text logs,
 * which have no fields, keep them in the message.
 */
final class RequestLog {
  /** The request attribute holding the request's {@link Entry}. */
  static final String ENTRY = "ml.request";

  /**
   * What the log line needs to know of a request, kept in one request attribute (set when the
   * request begins; the API and model once the path is parsed).
   */
  static final class Entry {
    private final long start;
    private final String requestId;
    private String api = "";
    private String model = "";

    Entry(long start, String requestId) {
      this.start = start;
      this.requestId = requestId;
    }

    void name(String api, String model) {
      this.api = api;
      this.model = model;
    }

    String requestId() {
      return requestId;
    }
  }

  /** The request's entry; one with no id for a request that never reached the service's code. */
  static Entry entry(Context ctx) {
    Entry e = ctx.attribute(ENTRY);
    return e != null ? e : new Entry(System.nanoTime(), null);
  }

  private static final Logger log = LoggerFactory.getLogger("dev.mlserve.requests");

  private static final String OK_FIELDS = " {} {} {} {} {} {} {} {} {} {}";
  private static final String FAILED_FIELDS = " {} {} {} {} {} {} {} {} {} {} {} {} {}";

  private final ServingMetrics metrics;
  private final String okMessage;
  private final String failedMessage;

  /**
   * @param fieldsInMessage whether the message repeats the fields as {@code key=value} text (text
   *     logs); JSON logs carry them as fields only
   */
  RequestLog(ServingMetrics metrics, boolean fieldsInMessage) {
    this.metrics = metrics;
    this.okMessage = fieldsInMessage ? "predict" + OK_FIELDS : "predict";
    this.failedMessage = fieldsInMessage ? "request failed" + FAILED_FIELDS : "request failed";
  }

  void ok(Context ctx, PredictResult p) {
    Entry e = entry(ctx);
    long nanos = System.nanoTime() - e.start;
    String api = e.api;
    p.meters().latency(api, 200, nanos);
    if (log.isInfoEnabled()) {
      log.info(
          okMessage,
          kv("event", "predict"),
          kv("api", api),
          kv("model", p.model()),
          kv("version", p.version()),
          kv("variant", p.variant()),
          kv("rows", p.rows()),
          kv("low_confidence_rows", p.lowConfidenceRows().length),
          kv("status", 200),
          kv("latency_ms", nanos / 1e6),
          kv("request_id", p.requestId()));
    }
  }

  void failed(Context ctx, int status, String error, Throwable cause) {
    Entry e = entry(ctx);
    long nanos = System.nanoTime() - e.start;
    String model = e.model;
    String api = e.api;
    ServingException.Routed routed = cause instanceof ServingException se ? se.routed() : null;
    if (routed != null) {
      metrics
          .variant(routed.model(), routed.version(), routed.variant())
          .latency(api, status, nanos);
    } else if (!api.isEmpty()) {
      metrics.unroutedRequest(api, model, status, nanos);
    }
    Object[] fields = {
      kv("event", api.isEmpty() ? "http" : "predict"),
      kv("api", api),
      kv("model", routed != null ? routed.model() : model),
      kv("version", routed != null ? Long.toString(routed.version()) : ""),
      kv("variant", routed != null ? routed.variant() : ""),
      kv("method", ctx.method().name()),
      kv("path", ctx.path()),
      kv("rows", 0),
      kv("low_confidence_rows", 0),
      kv("status", status),
      kv("latency_ms", nanos / 1e6),
      kv("request_id", String.valueOf(e.requestId)),
      kv("error", error)
    };
    boolean unexpected =
        status >= 500
            && !(cause instanceof ServingException.Overloaded)
            && !(cause instanceof ServingException.Unavailable);
    if (unexpected) { // a bug or a failing model: keep the stack trace
      Object[] withCause = java.util.Arrays.copyOf(fields, fields.length + 1);
      withCause[fields.length] = cause;
      log.error(failedMessage, withCause);
    } else {
      log.warn(failedMessage, fields);
    }
  }
}
