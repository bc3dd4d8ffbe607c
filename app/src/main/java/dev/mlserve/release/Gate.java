package dev.mlserve.release;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/** The offline gate: the candidate's held-out metrics against floors, stable, and its card. */
final class Gate {
  private Gate() {}

  static List<Check> judge(
      OfflineMetrics c, Optional<OfflineMetrics> s, OptionalDouble cardAccuracy, Rules r) {
    List<Check> checks = new ArrayList<>();
    atLeast(
        checks, "accuracy", c.accuracy(), r.get("min_accuracy"), s.map(OfflineMetrics::accuracy));
    atLeast(checks, "roc_auc", c.rocAuc(), r.get("min_roc_auc"), s.map(OfflineMetrics::rocAuc));
    atMost(checks, "brier", c.brier(), r.get("max_brier"), s.map(OfflineMetrics::brier));
    atMost(checks, "ece", c.ece(), r.get("max_ece"), s.map(OfflineMetrics::ece));
    atMost(
        checks,
        "low_confidence_share",
        c.lowConfidenceShare(),
        r.get("max_low_confidence_share"),
        s.map(OfflineMetrics::lowConfidenceShare));
    atMost(
        checks,
        "batch_max_diff",
        c.batchMaxDiff(),
        r.get("max_batch_diff"),
        s.map(OfflineMetrics::batchMaxDiff));
    if (s.isPresent()) {
      OfflineMetrics st = s.get();
      notWorse(checks, "accuracy", c.accuracy(), st.accuracy(), -r.get("max_accuracy_drop"));
      notWorse(checks, "roc_auc", c.rocAuc(), st.rocAuc(), -r.get("max_roc_auc_drop"));
      notWorse(checks, "brier", c.brier(), st.brier(), r.get("max_brier_rise"));
      notWorse(checks, "ece", c.ece(), st.ece(), r.get("max_ece_rise"));
      notWorse(
          checks,
          "low_confidence_share",
          c.lowConfidenceShare(),
          st.lowConfidenceShare(),
          r.get("max_low_confidence_rise"));
    }
    if (cardAccuracy.isPresent()) {
      double gap = Math.abs(c.accuracy() - cardAccuracy.getAsDouble());
      checks.add(
          new Check(
              "accuracy vs model card claim " + Check.num(cardAccuracy.getAsDouble()),
              Check.num(gap),
              "-",
              "|gap| <= " + Check.num(r.get("max_card_accuracy_gap")),
              gap <= r.get("max_card_accuracy_gap")));
    }
    return checks;
  }

  private static void atLeast(
      List<Check> out, String metric, double v, double floor, Optional<Double> stable) {
    out.add(
        new Check(
            metric,
            Check.num(v),
            stable.map(Check::num).orElse("-"),
            ">= " + Check.num(floor),
            v >= floor));
  }

  private static void atMost(
      List<Check> out, String metric, double v, double ceiling, Optional<Double> stable) {
    out.add(
        new Check(
            metric,
            Check.num(v),
            stable.map(Check::num).orElse("-"),
            "<= " + Check.num(ceiling),
            v <= ceiling));
  }

  /** {@code delta} < 0: higher is better, may drop by -delta; > 0: lower is better. */
  private static void notWorse(List<Check> out, String metric, double c, double s, double delta) {
    boolean higherIsBetter = delta < 0;
    double limit = s + delta;
    out.add(
        new Check(
            metric,
            Check.num(c),
            Check.num(s),
            (higherIsBetter ? ">= stable - " : "<= stable + ") + Check.num(Math.abs(delta)),
            higherIsBetter ? c >= limit : c <= limit));
  }
}
