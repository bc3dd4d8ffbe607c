package dev.mlserve.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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

  private record VariantKey(String model, String version, String variant) {}

  /** Upper bounds of the score histogram's buckets: ten fixed bins over [0, 1]. */
  public static final double[] SCORE_BUCKETS = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};

  /** The failure kinds of {@code mlserve_prediction_errors}. */
  public static final List<String> ERROR_KINDS =
      List.of("bad_input", "model_rejected", "overloaded", "unavailable", "internal");

  private final Map<VariantKey, VariantMeters> variants = new ConcurrentHashMap<>();

  /**
   * The score histogram is a Prometheus client histogram on the same registry, not a Micrometer
   * summary: Micrometer 1.17's summaries with SLO boundaries put values below 1 in no bucket under
   * 1.0 (measured: 0.03 counted only from le="1.0" up), so every score bin but the last read zero.
   */
  private final Histogram scoreHistogram =
      Histogram.builder()
          .name("mlserve_prediction_score")
          .help("Scores of single-score outputs, one observation per row")
          .labelNames("model", "version", "variant")
          .classicUpperBounds(SCORE_BUCKETS)
          .classicOnly()
          .withoutExemplars()
          .register(registry.getPrometheusRegistry());

  /**
   * The meters of one (model, version, variant), built once and then handed along with each
   * request, so a request records without looking a meter up by its tags.
   */
  public VariantMeters variant(String model, long version, String variant) {
    VariantKey key = new VariantKey(model, Long.toString(version), variant);
    VariantMeters m = variants.get(key);
    return m != null ? m : variants.computeIfAbsent(key, VariantMeters::new);
  }

  /** Every meter tagged with one (model, version, variant). */
  public final class VariantMeters {
    private final VariantKey key;
    private final Counter rows;
    private final Counter lowConfidence;
    private final DistributionDataPoint scores;
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Map<String, Timer> latency = new ConcurrentHashMap<>();

    private VariantMeters(VariantKey k) {
      this.key = k;
      Tags tags = Tags.of("model", k.model(), "version", k.version(), "variant", k.variant());
      rows =
          Counter.builder("mlserve_predicted_rows")
              .description("Rows predicted")
              .tags(tags)
              .register(registry);
      lowConfidence =
          Counter.builder("mlserve_low_confidence_rows")
              .description("Rows whose score fell inside the low-confidence band")
              .tags(tags)
              .register(registry);
      // the release controller compares variants with it (PSI) and dashboards draw it
      scores = scoreHistogram.labelValues(k.model(), k.version(), k.variant());
    }

    /** Rows predicted. */
    public void rows(int n) {
      rows.increment(n);
    }

    /** Rows whose score fell inside the low-confidence band. */
    public void lowConfidence(int n) {
      if (n > 0) {
        lowConfidence.increment(n);
      }
    }

    /** One row's score of a single-score output, on the fixed {@link #SCORE_BUCKETS}. */
    public void score(double s) {
      scores.observe(s);
    }

    /**
     * A prediction that failed after its version was chosen; {@code kind} is one of {@link
     * #ERROR_KINDS}: bad_input (refused before the model ran), model_rejected (the model itself
     * refused input that passed validation), overloaded, unavailable or internal.
     */
    public void error(String kind) {
      errors
          .computeIfAbsent(
              kind,
              k ->
                  Counter.builder("mlserve_prediction_errors")
                      .description("Predictions that failed after routing, by kind")
                      .tags(
                          "model",
                          key.model(),
                          "version",
                          key.version(),
                          "variant",
                          key.variant(),
                          "kind",
                          k)
                      .register(registry))
          .increment();
    }

    /** One HTTP prediction request served (or failed) by this variant. */
    public void latency(String api, int status, long nanos) {
      String k = api + ' ' + status;
      Timer t = latency.get(k);
      if (t == null) {
        t = latency.computeIfAbsent(k, x -> requestTimer(api, key, status));
      }
      t.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  private final Map<String, Timer> unroutedTimers = new ConcurrentHashMap<>();

  /**
   * A prediction request that failed before it was routed to a version (unknown model, bad JSON):
   * no version or variant to tag it with.
   */
  public void unroutedRequest(String api, String model, int status, long nanos) {
    unroutedTimers
        .computeIfAbsent(
            api + ' ' + model + ' ' + status,
            k -> requestTimer(api, new VariantKey(model, "", ""), status))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  private Timer requestTimer(String api, VariantKey k, int status) {
    return Timer.builder("mlserve_request_latency")
        .description("Prediction request latency")
        .tags(
            "api",
            api,
            "model",
            k.model(),
            "version",
            k.version(),
            "variant",
            k.variant(),
            "status",
            Integer.toString(status))
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
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

  /** The meters of one model version's batch queue, built once per queue. */
  public BatchMeters batches(String model, long version) {
    return new BatchMeters(model, Long.toString(version));
  }

  /** Rows and requests per TensorFlow call, queue wait and refusals of one batch queue. */
  public final class BatchMeters {
    private final DistributionSummary rows;
    private final DistributionSummary requests;
    private final Timer queueWait;
    private final Counter rejected;
    private final Counter splits;

    private BatchMeters(String model, String version) {
      Tags tags = Tags.of("model", model, "version", version);
      rows =
          DistributionSummary.builder("mlserve_batch_rows")
              .description("Rows per TensorFlow call")
              .tags(tags)
              .publishPercentileHistogram()
              .maximumExpectedValue(4096.0)
              .register(registry);
      requests =
          DistributionSummary.builder("mlserve_batch_requests")
              .description("Requests merged into one TensorFlow call")
              .tags(tags)
              .register(registry);
      queueWait =
          Timer.builder("mlserve_batch_queue_wait")
              .description("Time a request waited in the batch queue")
              .tags(tags)
              .publishPercentileHistogram()
              .minimumExpectedValue(Duration.ofNanos(10_000))
              .maximumExpectedValue(Duration.ofSeconds(1))
              .register(registry);
      rejected =
          Counter.builder("mlserve_batch_rejected")
              .description("Requests refused because the batch queue was full")
              .tags(tags)
              .register(registry);
      splits =
          Counter.builder("mlserve_batch_splits")
              .description("Merged calls that failed and were retried one request at a time")
              .tags(tags)
              .register(registry);
    }

    /** A merged call failed; its requests run one by one so one bad row fails only its own. */
    public void split() {
      splits.increment();
    }

    /** One TensorFlow call of {@code rowCount} rows from {@code requestCount} requests. */
    public void call(int rowCount, int requestCount) {
      rows.record(rowCount);
      requests.record(requestCount);
    }

    public void queueWait(long nanos) {
      queueWait.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void rejected() {
      rejected.increment();
    }
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
