package dev.mlserve.predict;

import dev.mlserve.capture.CaptureRecord;
import dev.mlserve.capture.CaptureSink;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.errors.ServingException;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.model.DType;
import dev.mlserve.model.ModelRegistry;
import dev.mlserve.model.ModelSettings;
import dev.mlserve.model.ModelSettings.Variant;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

/**
 * The one prediction path both HTTP APIs share: pick the variant or version, check the inputs
 * against the signature, run them (merged with concurrent requests when batching is on), flag
 * low-confidence rows, and hand a sample to data capture.
 */
public final class PredictionService implements AutoCloseable {
  private final ModelRegistry registry;
  private final ServerConfig config;
  private final BatchScheduler scheduler;
  private final CaptureSink capture;
  private final ServingMetrics metrics;

  public PredictionService(
      ModelRegistry registry, ServerConfig config, ServingMetrics metrics, CaptureSink capture) {
    this.registry = registry;
    this.config = config;
    this.capture = capture;
    this.metrics = metrics;
    this.scheduler = new BatchScheduler(config.batching().workers(), metrics);
  }

  public ModelRegistry registry() {
    return registry;
  }

  /**
   * Chooses the model version for a request: the explicit version or label when given, else a
   * variant by weight (sticky by header when the model's settings name one), else the latest. The
   * returned route holds the version until {@link #predict} finishes with it.
   *
   * @param header looks up a request header by name, for sticky routing
   */
  public Route route(
      String model, OptionalLong version, Optional<String> label, UnaryOperator<String> header) {
    ModelSettings settings = registry.settings(model);
    String variant = "";
    if (label.isPresent()) {
      version = OptionalLong.of(registry.resolveLabel(model, label.get()));
    } else if (version.isEmpty() && !settings.variants().isEmpty()) {
      Optional<String> key = settings.stickyHeader().map(header);
      Variant v = VariantRouter.choose(settings.variants(), key);
      variant = v.name();
      model = v.model().orElse(model);
      version = v.version();
    }
    return new Route(registry.acquire(model, version), variant);
  }

  /**
   * Predicts with inputs already parsed for {@code signature}; releases the route's version when
   * done. Validation errors are thrown at once; the future fails with a {@link ServingException}
   * for anything else the client must hear about.
   */
  public CompletableFuture<Prediction> predict(
      Route route, String requestId, SignatureSpec signature, Map<String, Values> given) {
    long start = System.nanoTime();
    ModelVersion mv = route.model();
    try {
      Map<String, Values> inputs = signature.conform(given);
      int rows = rowCount(signature, inputs);
      if (rows > config.limits().maxRows()) {
        throw ServingException.badRequest(
            "too many rows: " + rows + " (the limit is " + config.limits().maxRows() + ")");
      }
      BatchPolicy policy = policyFor(mv.name());
      CompletableFuture<Map<String, Values>> outputs;
      if (policy.enabled() && signature.batchable()) {
        outputs = scheduler.submit(mv, signature, inputs, rows, () -> policyFor(mv.name()));
      } else {
        outputs = CompletableFuture.completedFuture(mv.run(signature, inputs));
      }
      return outputs.handle(
          (out, err) -> {
            mv.release();
            if (err != null) {
              recordError(mv, route.variant(), err, "model_rejected");
              throw err instanceof CompletionException ce ? ce : new CompletionException(err);
            }
            recordScores(mv, route.variant(), out);
            int[] low = lowConfidence(mv.name(), signature, out);
            Prediction p =
                new Prediction(
                    requestId, mv.name(), mv.version(), route.variant(), signature, out, rows, low);
            maybeCapture(p, inputs, start);
            return p;
          });
    } catch (RuntimeException e) {
      mv.release();
      recordError(mv, route.variant(), e, "bad_input");
      throw e;
    }
  }

  /**
   * Counts a failure by kind, per variant: a 4xx is {@code badInputKind} (refused before the model
   * ran, or by the model itself once batched), 503 is overload or unavailability, anything else is
   * internal.
   */
  private void recordError(ModelVersion mv, String variant, Throwable err, String badInputKind) {
    Throwable e =
        err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    String kind = "internal";
    if (e instanceof ServingException se) {
      int status = se.status();
      if (status == 503) {
        kind = se.getMessage().contains("overloaded") ? "overloaded" : "unavailable";
      } else if (status >= 400 && status < 500) {
        kind = badInputKind;
      }
    }
    metrics.predictionError(mv.name(), Long.toString(mv.version()), variant, kind);
  }

  /** Observes every row's score of a single-score output in the per-variant score histogram. */
  private void recordScores(ModelVersion mv, String variant, Map<String, Values> out) {
    Values v = singleScore(out);
    if (v == null) {
      return;
    }
    var summary = metrics.scores(mv.name(), Long.toString(mv.version()), variant);
    for (int i = 0; i < v.size(); i++) {
      summary.accept(v.number(i));
    }
  }

  /** The output when it is one floating-point number per row, else null. */
  private static Values singleScore(Map<String, Values> out) {
    if (out.size() != 1) {
      return null;
    }
    Values v = out.values().iterator().next();
    if ((v.dtype() != DType.FLOAT && v.dtype() != DType.DOUBLE) || v.size() != v.rows()) {
      return null;
    }
    return v;
  }

  private static int rowCount(SignatureSpec spec, Map<String, Values> inputs) {
    for (var e : inputs.entrySet()) {
      if (spec.inputs().get(e.getKey()).batchable()) {
        return (int) e.getValue().rows();
      }
    }
    return 1;
  }

  private BatchPolicy policyFor(String model) {
    ModelSettings s = registry.settings(model);
    ServerConfig.Batching d = config.batching();
    return new BatchPolicy(
        s.batchingEnabled().orElse(d.enabled()),
        s.maxBatchSize().orElse(d.maxBatchSize()),
        s.maxWaitMicros().orElse(d.maxWaitMicros()),
        s.maxQueueRows().orElse(d.maxQueueRows()));
  }

  /** Rows of a single-score output (one number per row) that fall inside the band. */
  private int[] lowConfidence(String model, SignatureSpec spec, Map<String, Values> out) {
    Optional<double[]> band =
        registry
            .settings(model)
            .lowConfidenceBand()
            .or(() -> config.lowConfidenceBand().map(b -> new double[] {b.low(), b.high()}));
    Values v = singleScore(out);
    if (band.isEmpty() || v == null) {
      return new int[0];
    }
    double lo = band.get()[0];
    double hi = band.get()[1];
    int count = 0;
    int[] flagged = new int[v.size()];
    for (int i = 0; i < v.size(); i++) {
      double s = v.number(i);
      if (s >= lo && s <= hi) {
        flagged[count++] = i;
      }
    }
    return java.util.Arrays.copyOf(flagged, count);
  }

  private void maybeCapture(Prediction p, Map<String, Values> inputs, long startNanos) {
    double percent =
        registry
            .settings(p.model())
            .captureSamplePercent()
            .orElse(config.capture().samplePercent());
    if (percent <= 0 || ThreadLocalRandom.current().nextDouble(100) >= percent) {
      return;
    }
    capture.offer(
        new CaptureRecord(
            p.requestId(),
            Instant.now(),
            p.model(),
            p.version(),
            p.variant(),
            p.signature().key(),
            plain(inputs),
            plain(p.outputs()),
            (System.nanoTime() - startNanos) / 1e6,
            p.lowConfidenceRows()));
  }

  /** Values as {"shape": [...], "data": [...]} with strings decoded as UTF-8. */
  static Map<String, Object> plain(Map<String, Values> values) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (var e : values.entrySet()) {
      Values v = e.getValue();
      List<Object> data = new ArrayList<>(v.size());
      for (int i = 0; i < v.size(); i++) {
        data.add(
            switch (v.dtype()) {
              case STRING -> new String(v.bytes(i), StandardCharsets.UTF_8);
              case BOOL -> v.bool(i);
              case INT32, INT64 -> v.integer(i);
              case FLOAT, DOUBLE -> v.number(i);
            });
      }
      Map<String, Object> tensor = new LinkedHashMap<>();
      tensor.put("shape", v.shape());
      tensor.put("data", data);
      out.put(e.getKey(), tensor);
    }
    return out;
  }

  @Override
  public void close() {
    scheduler.close();
  }
}
