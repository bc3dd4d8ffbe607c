package dev.mlserve.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleConsumer;
import java.util.function.Supplier;

/**
 * The service's meters, scraped as Prometheus text at {@code /metrics}. One instance per server;
 * every package records through it, none reads from it.
 */
public final class ServingMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  public ServingMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  /** Prometheus exposition text. */
  public String scrape() {
    return registry.scrape();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  private record RequestKey(String api, String model, String version, String variant, int status) {}

  // Looked up once per tag combination, not rebuilt (tags sorted, id hashed) on every request.
  private final Map<RequestKey, Timer> requestTimers = new ConcurrentHashMap<>();
  private final Map<VariantKey, Counter> rowCounters = new ConcurrentHashMap<>();

  /** One HTTP prediction request: its API, target and outcome. */
  public void request(
      String api, String model, String version, String variant, int status, long nanos, int rows) {
    requestTimers
        .computeIfAbsent(
            new RequestKey(api, model, version, variant, status),
            k ->
                Timer.builder("mlserve_request_latency")
                    .description("Prediction request latency")
                    .tags(
                        "api",
                        k.api(),
                        "model",
                        k.model(),
                        "version",
                        k.version(),
                        "variant",
                        k.variant(),
                        "status",
                        Integer.toString(k.status()))
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
    if (rows > 0) {
      rowCounters
          .computeIfAbsent(
              new VariantKey(model, version, variant),
              k ->
                  Counter.builder("mlserve_predicted_rows")
                      .description("Rows predicted")
                      .tags("model", k.model(), "version", k.version(), "variant", k.variant())
                      .register(registry))
          .increment(rows);
    }
  }

  /** Upper bounds of the score histogram's buckets: ten fixed bins over [0, 1]. */
  public static final double[] SCORE_BUCKETS = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};

  private record VariantKey(String model, String version, String variant) {}

  private record ErrorKey(String model, String version, String variant, String kind) {}

  private final Map<VariantKey, Counter> lowConfidenceCounters = new ConcurrentHashMap<>();
  private final Map<VariantKey, DoubleConsumer> scoreObservers = new ConcurrentHashMap<>();
  private final Histogram scoreHistogram =
      Histogram.builder()
          .name("mlserve_prediction_score")
          .help("Scores of single-score outputs, one observation per row")
          .labelNames("model", "version", "variant")
          .classicUpperBounds(SCORE_BUCKETS)
          .classicOnly()
          .withoutExemplars()
          .register(registry.getPrometheusRegistry());
  private final Map<ErrorKey, Counter> errorCounters = new ConcurrentHashMap<>();

  /** Rows whose score fell inside the low-confidence band, per variant. */
  public void lowConfidence(String model, String version, String variant, int rows) {
    lowConfidenceCounters
        .computeIfAbsent(
            new VariantKey(model, version, variant),
            k ->
                Counter.builder("mlserve_low_confidence_rows")
                    .description("Rows whose score fell inside the low-confidence band")
                    .tags("model", k.model(), "version", k.version(), "variant", k.variant())
                    .register(registry))
        .increment(rows);
  }

  /**
   * Score distribution of single-score outputs, per variant, on the fixed {@link #SCORE_BUCKETS}:
   * the release controller compares variants with it (PSI) and dashboards draw it. Returns what
   * observes one row's score. A Prometheus client histogram, not a Micrometer summary: Micrometer
   * 1.17's summaries put values below 1 in no bucket under 1.0 (measured: 0.03 landed in le="1.0"
   * only), which would make every score bucket but the last read zero.
   */
  public DoubleConsumer scores(String model, String version, String variant) {
    return scoreObservers.computeIfAbsent(
        new VariantKey(model, version, variant),
        k -> scoreHistogram.labelValues(k.model(), k.version(), k.variant())::observe);
  }

  /**
   * A prediction that failed after its model version was chosen. {@code kind} is one of {@code
   * bad_input} (refused before the model ran), {@code model_rejected} (the model itself refused
   * input that passed validation), {@code overloaded}, {@code unavailable} or {@code internal}.
   */
  public void predictionError(String model, String version, String variant, String kind) {
    errorCounters
        .computeIfAbsent(
            new ErrorKey(model, version, variant, kind),
            k ->
                Counter.builder("mlserve_prediction_errors")
                    .description("Predictions that failed after routing, by kind")
                    .tags(
                        "model",
                        k.model(),
                        "version",
                        k.version(),
                        "variant",
                        k.variant(),
                        "kind",
                        k.kind())
                    .register(registry))
        .increment();
  }

  public void modelLoad(String model, long version, boolean ok, long nanos) {
    Timer.builder("mlserve_model_load")
        .description("Time to fetch, load and warm up a model version")
        .tags("model", model, "version", Long.toString(version), "outcome", ok ? "ok" : "failed")
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void storeError(String source) {
    Counter.builder("mlserve_model_store_errors")
        .description("Failed polls of the model store")
        .tag("source", source)
        .register(registry)
        .increment();
  }

  public void batch(String model, String version, int rows, int requests) {
    DistributionSummary.builder("mlserve_batch_rows")
        .description("Rows per TensorFlow call")
        .tags("model", model, "version", version)
        .publishPercentileHistogram()
        .maximumExpectedValue(4096.0)
        .register(registry)
        .record(rows);
    DistributionSummary.builder("mlserve_batch_requests")
        .description("Requests merged into one TensorFlow call")
        .tags("model", model, "version", version)
        .register(registry)
        .record(requests);
  }

  public void queueWait(String model, String version, long nanos) {
    Timer.builder("mlserve_batch_queue_wait")
        .description("Time a request waited in the batch queue")
        .tags("model", model, "version", version)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(10_000))
        .maximumExpectedValue(Duration.ofSeconds(1))
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void queueRejected(String model, String version) {
    Counter.builder("mlserve_batch_rejected")
        .description("Requests refused because the batch queue was full")
        .tags("model", model, "version", version)
        .register(registry)
        .increment();
  }

  public void gauge(String name, String description, Supplier<Number> value) {
    io.micrometer.core.instrument.Gauge.builder(name, value)
        .description(description)
        .register(registry);
  }

  public void count(String name, String description, String... tags) {
    Counter.builder(name).description(description).tags(tags).register(registry).increment();
  }

  public void count(String name, String description, double amount, String... tags) {
    Counter.builder(name).description(description).tags(tags).register(registry).increment(amount);
  }
}
