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
 */
final class RequestLog {
  static final String API = "ml.api";
  static final String MODEL = "ml.model";
  static final String REQUEST_ID = "ml.requestId";
  static final String START = "ml.start";
  private static final Logger log = LoggerFactory.getLogger("dev.mlserve.requests");

  private final ServingMetrics metrics;

  RequestLog(ServingMetrics metrics) {
    this.metrics = metrics;
  }

  void ok(Context ctx, PredictResult p) {
    long nanos = System.nanoTime() - (long) ctx.attribute(START);
    String api = api(ctx);
    p.meters().latency(api, 200, nanos);
    if (log.isInfoEnabled()) {
      log.info(
          "predict {} {} {} {} {} {} {} {} {} {}",
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
    Long start = ctx.attribute(START);
    long nanos = start == null ? 0 : System.nanoTime() - start;
    String model = ctx.attribute(MODEL) == null ? "" : ctx.attribute(MODEL);
    String api = api(ctx);
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
      kv("request_id", String.valueOf((Object) ctx.attribute(REQUEST_ID))),
      kv("error", error)
    };
    String format = "request failed {} {} {} {} {} {} {} {} {} {} {} {} {}";
    boolean unexpected =
        status >= 500
            && !(cause instanceof ServingException.Overloaded)
            && !(cause instanceof ServingException.Unavailable);
    if (unexpected) { // a bug or a failing model: keep the stack trace
      Object[] withCause = java.util.Arrays.copyOf(fields, fields.length + 1);
      withCause[fields.length] = cause;
      log.error(format, withCause);
    } else {
      log.warn(format, fields);
    }
  }

  private static String api(Context ctx) {
    Object a = ctx.attribute(API);
    return a == null ? "" : a.toString();
  }
}
