package dev.mlserve.release;

import dev.mlserve.release.PrometheusClient.Series;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads the service's per-variant metrics from Prometheus, summed over every task (instance), as
 * the increase of each counter between two instants (a counter that went down restarted with its
 * task: its increase is its new value). Only series of the expected (variant, version) pairs count,
 * so an earlier release's series never leak into this one.
 */
final class LiveJudge {
  private final PrometheusClient prometheus;

  LiveJudge(PrometheusClient prometheus) {
    this.prometheus = prometheus;
  }

  /** What the stage step waits for: which tasks have loaded the candidate, which failed. */
  record Loaded(Set<String> tasks, Set<String> loaded, Set<String> failed) {
    boolean everywhere() {
      return !tasks.isEmpty() && loaded.containsAll(tasks);
    }
  }

  /**
   * Tasks seen in the last minute serving {@code model}, and which of them loaded {@code version}.
   */
  Loaded loaded(String model, long version, Instant now) throws IOException, InterruptedException {
    String m = quote(model);
    Set<String> tasks = new TreeSet<>();
    for (Series s :
        prometheus.query(
            "max by (instance) (timestamp(mlserve_model_load_seconds_count{model=" + m + "}))",
            now)) {
      if (s.value() >= now.getEpochSecond() - 60) {
        tasks.add(s.label("instance"));
      }
    }
    Set<String> ok = new TreeSet<>();
    Set<String> failed = new TreeSet<>();
    for (Series s :
        prometheus.query(
            "mlserve_model_load_seconds_count{model=" + m + ",version=\"" + version + "\"}", now)) {
      (s.label("outcome").equals("ok") ? ok : failed).add(s.label("instance"));
    }
    failed.removeAll(ok); // loaded after a retry
    return new Loaded(tasks, ok, failed);
  }

  /** Each variant's numbers between {@code from} and {@code to}; variants map to their versions. */
  Map<String, LiveMetrics> measure(
      String model, Map<String, Long> variants, Instant from, Instant to)
      throws IOException, InterruptedException {
    String sel =
        "{model=" + quote(model) + ",variant=~\"" + String.join("|", variants.keySet()) + "\"}";
    Map<String, Map<String, Double>> requests =
        increase("mlserve_request_latency_seconds_count" + sel, variants, from, to, "status");
    Map<String, Map<String, Double>> latency =
        increase(
            "mlserve_request_latency_seconds_bucket" + sel.replace("}", ",status=\"200\"}"),
            variants,
            from,
            to,
            "le");
    Map<String, Map<String, Double>> rejected =
        increase(
            "mlserve_prediction_errors_total" + sel.replace("}", ",kind=\"model_rejected\"}"),
            variants,
            from,
            to,
            "kind");
    Map<String, Map<String, Double>> rows =
        increase("mlserve_predicted_rows_total" + sel, variants, from, to, "model");
    Map<String, Map<String, Double>> low =
        increase("mlserve_low_confidence_rows_total" + sel, variants, from, to, "model");
    Map<String, Map<String, Double>> scores =
        increase("mlserve_prediction_score_bucket" + sel, variants, from, to, "le");
    Map<String, LiveMetrics> out = new TreeMap<>();
    for (String variant : variants.keySet()) {
      Map<String, Double> byStatus = requests.getOrDefault(variant, Map.of());
      double total = byStatus.values().stream().mapToDouble(Double::doubleValue).sum();
      double fivexx =
          byStatus.entrySet().stream()
              .filter(e -> e.getKey().startsWith("5"))
              .mapToDouble(Map.Entry::getValue)
              .sum();
      double refused =
          rejected.getOrDefault(variant, Map.of()).values().stream()
              .mapToDouble(Double::doubleValue)
              .sum();
      double n = rows.getOrDefault(variant, Map.of()).getOrDefault(model, 0.0);
      double lowRows = low.getOrDefault(variant, Map.of()).getOrDefault(model, 0.0);
      TreeMap<Double, Double> scoreCum = byLe(scores.getOrDefault(variant, Map.of()));
      double scored = scoreCum.isEmpty() ? 0 : scoreCum.lastEntry().getValue();
      double[] bins = new double[10];
      double previous = 0;
      for (int i = 0; i < 10; i++) {
        double upTo = scoreCum.getOrDefault((i + 1) / 10.0, previous);
        bins[i] = scored > 0 ? (upTo - previous) / scored : 0;
        previous = upTo;
      }
      double atMostHalf = scoreCum.getOrDefault(0.5, 0.0);
      out.put(
          variant,
          new LiveMetrics(
              total,
              fivexx + refused,
              quantile(0.99, byLe(latency.getOrDefault(variant, Map.of()))),
              n,
              n > 0 ? lowRows / n : Double.NaN,
              scored > 0 ? (scored - atMostHalf) / scored : Double.NaN,
              bins));
    }
    return out;
  }

  /** The live rules applied to candidate vs stable. */
  static List<Check> judge(LiveMetrics c, LiveMetrics s, Rules r) {
    List<Check> checks = new ArrayList<>();
    double min = r.get("min_requests");
    checks.add(
        new Check(
            "requests",
            String.format("%.0f", c.requests()),
            String.format("%.0f", s.requests()),
            String.format(">= %.0f each", min),
            c.requests() >= min && s.requests() >= min));
    double rise = r.get("max_error_rate_rise");
    checks.add(
        new Check(
            "error_rate (5xx + model-rejected)",
            Check.num(c.errorRate()),
            Check.num(s.errorRate()),
            "<= stable + " + Check.num(rise),
            !(c.errorRate() > (Double.isNaN(s.errorRate()) ? 0 : s.errorRate()) + rise)));
    double p99Limit =
        Math.max(
            s.p99Seconds() * r.get("max_p99_ratio"), s.p99Seconds() + r.get("p99_slack_seconds"));
    checks.add(
        new Check(
            "p99_latency_seconds",
            Check.num(c.p99Seconds()),
            Check.num(s.p99Seconds()),
            "<= max(stable x "
                + r.get("max_p99_ratio")
                + ", stable + "
                + r.get("p99_slack_seconds")
                + ")",
            Double.isNaN(c.p99Seconds()) || Double.isNaN(p99Limit) || c.p99Seconds() <= p99Limit));
    double lowRise = r.get("max_low_confidence_rise");
    checks.add(
        new Check(
            "low_confidence_share",
            Check.num(c.lowConfidenceShare()),
            Check.num(s.lowConfidenceShare()),
            "<= stable + " + Check.num(lowRise),
            !(c.lowConfidenceShare() > s.lowConfidenceShare() + lowRise)));
    double diff = r.get("max_positive_rate_diff");
    checks.add(
        new Check(
            "positive_rate",
            Check.num(c.positiveRate()),
            Check.num(s.positiveRate()),
            "|candidate - stable| <= " + Check.num(diff),
            !(Math.abs(c.positiveRate() - s.positiveRate()) > diff)));
    double psi = LiveMetrics.psi(s.scoreBins(), c.scoreBins());
    checks.add(
        new Check(
            "score_psi (candidate vs stable)",
            Check.num(psi),
            "-",
            "<= " + Check.num(r.get("max_psi")),
            psi <= r.get("max_psi")));
    return checks;
  }

  /**
   * Per variant, the increase of every series matching {@code selector} between the two instants,
   * summed by the value of {@code key} (status, le, ...).
   */
  private Map<String, Map<String, Double>> increase(
      String selector, Map<String, Long> variants, Instant from, Instant to, String key)
      throws IOException, InterruptedException {
    Map<Map<String, String>, Double> before = new HashMap<>();
    for (Series s : prometheus.query(selector, from)) {
      before.put(s.labels(), s.value());
    }
    Map<String, Map<String, Double>> out = new HashMap<>();
    for (Series s : prometheus.query(selector, to)) {
      String variant = s.label("variant");
      Long version = variants.get(variant);
      if (version == null || !s.label("version").equals(Long.toString(version))) {
        continue;
      }
      double start = before.getOrDefault(s.labels(), 0.0);
      double inc = s.value() >= start ? s.value() - start : s.value();
      out.computeIfAbsent(variant, v -> new HashMap<>()).merge(s.label(key), inc, Double::sum);
    }
    return out;
  }

  private static TreeMap<Double, Double> byLe(Map<String, Double> buckets) {
    TreeMap<Double, Double> cum = new TreeMap<>();
    buckets.forEach(
        (le, v) ->
            cum.put(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), v));
    return cum;
  }

  /** As PromQL's histogram_quantile: linear within the bucket that holds the rank. */
  static double quantile(double q, TreeMap<Double, Double> cumulative) {
    if (cumulative.isEmpty()) {
      return Double.NaN;
    }
    double total = cumulative.lastEntry().getValue();
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lowerLe = 0;
    double lowerCount = 0;
    for (Map.Entry<Double, Double> b : cumulative.entrySet()) {
      if (b.getValue() >= rank) {
        if (b.getKey() == Double.POSITIVE_INFINITY) {
          return lowerLe;
        }
        double inBucket = b.getValue() - lowerCount;
        return inBucket <= 0
            ? b.getKey()
            : lowerLe + (b.getKey() - lowerLe) * (rank - lowerCount) / inBucket;
      }
      lowerLe = b.getKey();
      lowerCount = b.getValue();
    }
    return lowerLe;
  }

  static String quote(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
