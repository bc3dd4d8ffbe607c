package dev.mlserve.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The service's own meters over the last minutes, for the live home page: per model, the request
 * rate, p50/p99 latency, low-confidence share and score histogram, computed like Prometheus' {@code
 * rate()} and {@code histogram_quantile()} from two snapshots of the registry: now and the oldest
 * one kept within {@link #WINDOW} (or the one taken when the server started). Snapshots are taken
 * when asked, at most one a second, so an idle page costs nothing.
 */
public final class LiveStats {
  public static final Duration WINDOW = Duration.ofMinutes(5);
  private static final long MIN_GAP_NANOS = Duration.ofSeconds(1).toNanos();

  /** One model's totals at one moment. Latency buckets are cumulative counts per upper bound. */
  private record Totals(
      double requests,
      double rows,
      double lowConfidence,
      TreeMap<Double, Double> latency,
      TreeMap<Double, Double> scores) {}

  private record Snapshot(long nanos, Map<String, Totals> models) {}

  /** What the page shows for one model over {@code seconds}. NaN where nothing happened. */
  public record ModelLive(
      double seconds,
      double requestsPerSecond,
      double rowsPerSecond,
      double p50Seconds,
      double p99Seconds,
      double lowConfidenceShare,
      Map<Double, Double> scoreBins) {}

  private final ServingMetrics metrics;
  private final LongSupplier clock;
  private final Deque<Snapshot> history = new ArrayDeque<>();

  public LiveStats(ServingMetrics metrics) {
    this(metrics, System::nanoTime);
  }

  LiveStats(ServingMetrics metrics, LongSupplier clock) {
    this.metrics = metrics;
    this.clock = clock;
    history.add(take());
  }

  /** Per model, the last minutes (since start when the server is younger than the window). */
  public synchronized Map<String, ModelLive> current() {
    Snapshot now = take();
    if (now.nanos - history.getLast().nanos >= MIN_GAP_NANOS) {
      history.addLast(now);
    }
    long oldest = now.nanos - WINDOW.toNanos();
    while (history.size() > 1 && history.toArray(Snapshot[]::new)[1].nanos <= oldest) {
      history.removeFirst();
    }
    Snapshot base = history.getFirst();
    double seconds = Math.max((now.nanos - base.nanos) / 1e9, 1e-3);
    Map<String, ModelLive> out = new TreeMap<>();
    for (var e : now.models.entrySet()) {
      Totals a = base.models.getOrDefault(e.getKey(), empty());
      Totals b = e.getValue();
      double rows = b.rows - a.rows;
      TreeMap<Double, Double> latency = minus(b.latency, a.latency);
      TreeMap<Double, Double> scores = minus(b.scores, a.scores);
      Map<Double, Double> bins = new LinkedHashMap<>();
      double below = 0;
      for (var s : scores.entrySet()) {
        if (s.getKey().isInfinite()) {
          // Scores above 1 cannot come from a sigmoid; if any did, they join the last bin.
          bins.computeIfPresent(1.0, (le, n) -> n + s.getValue() - scores.get(1.0));
          continue;
        }
        bins.put(s.getKey(), s.getValue() - below); // per bin, not cumulative
        below = s.getValue();
      }
      out.put(
          e.getKey(),
          new ModelLive(
              seconds,
              (b.requests - a.requests) / seconds,
              rows / seconds,
              quantile(0.5, latency),
              quantile(0.99, latency),
              rows > 0 ? (b.lowConfidence - a.lowConfidence) / rows : Double.NaN,
              bins));
    }
    return out;
  }

  private static Totals empty() {
    return new Totals(0, 0, 0, new TreeMap<>(), new TreeMap<>());
  }

  private static TreeMap<Double, Double> minus(
      TreeMap<Double, Double> b, TreeMap<Double, Double> a) {
    TreeMap<Double, Double> out = new TreeMap<>();
    b.forEach((le, v) -> out.put(le, v - a.getOrDefault(le, 0.0)));
    return out;
  }

  /** histogram_quantile over cumulative bucket counts: linear within the bucket. */
  static double quantile(double q, TreeMap<Double, Double> cumulative) {
    if (cumulative.isEmpty() || cumulative.lastEntry().getValue() <= 0) {
      return Double.NaN;
    }
    double total = cumulative.lastEntry().getValue();
    double rank = q * total;
    double lowerBound = 0;
    double lowerCount = 0;
    for (var e : cumulative.entrySet()) {
      if (e.getValue() >= rank) {
        if (e.getKey().isInfinite()) {
          return lowerBound;
        }
        double inBucket = e.getValue() - lowerCount;
        return inBucket <= 0
            ? e.getKey()
            : lowerBound + (e.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
      }
      lowerBound = e.getKey();
      lowerCount = e.getValue();
    }
    return lowerBound;
  }

  private Snapshot take() {
    Map<String, Totals> models = new TreeMap<>();
    for (MetricSnapshot m : metrics.registry().getPrometheusRegistry().scrape()) {
      String name = m.getMetadata().getPrometheusName();
      switch (name) {
        case "mlserve_request_latency_seconds" -> {
          for (var dp : ((HistogramSnapshot) m).getDataPoints()) {
            Totals t = models.computeIfAbsent(dp.getLabels().get("model"), k -> empty());
            models.put(
                dp.getLabels().get("model"),
                new Totals(
                    t.requests + dp.getCount(), t.rows, t.lowConfidence, t.latency, t.scores));
            addCumulative(t.latency, dp.getClassicBuckets(), dp.getCount());
          }
        }
        case "mlserve_prediction_score" -> {
          for (var dp : ((HistogramSnapshot) m).getDataPoints()) {
            Totals t = models.computeIfAbsent(dp.getLabels().get("model"), k -> empty());
            addCumulative(t.scores, dp.getClassicBuckets(), dp.getCount());
          }
        }
        case "mlserve_predicted_rows", "mlserve_low_confidence_rows" -> {
          for (var dp : ((CounterSnapshot) m).getDataPoints()) {
            String model = dp.getLabels().get("model");
            Totals t = models.computeIfAbsent(model, k -> empty());
            boolean rows = name.equals("mlserve_predicted_rows");
            models.put(
                model,
                new Totals(
                    t.requests,
                    t.rows + (rows ? dp.getValue() : 0),
                    t.lowConfidence + (rows ? 0 : dp.getValue()),
                    t.latency,
                    t.scores));
          }
        }
        default -> {}
      }
    }
    return new Snapshot(clock.getAsLong(), models);
  }

  /**
   * Adds a data point's buckets to {@code into} as cumulative counts. The client's classic buckets
   * hold per-bucket counts (they sum to the data point's count); cumulative ones are taken as they
   * are.
   */
  private static void addCumulative(
      TreeMap<Double, Double> into, ClassicHistogramBuckets buckets, long count) {
    long sum = 0;
    for (int i = 0; i < buckets.size(); i++) {
      sum += buckets.getCount(i);
    }
    boolean perBucket = sum == count;
    double running = 0;
    for (int i = 0; i < buckets.size(); i++) {
      running = perBucket ? running + buckets.getCount(i) : buckets.getCount(i);
      into.merge(buckets.getUpperBound(i), running, Double::sum);
    }
  }
}
