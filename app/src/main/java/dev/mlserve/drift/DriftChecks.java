package dev.mlserve.drift;

import java.util.ArrayList;
import java.util.List;

/**
 * The checks of one segment (model version and variant) against its baseline, each with its value,
 * threshold and status, the way SageMaker Model Monitor's violations file reads. Under {@code
 * minRows} rows every check says {@code not_enough_data} and none is a violation. Without labels
 * nothing here measures accuracy.
 */
final class DriftChecks {
  static final String PASS = "pass";
  static final String VIOLATION = "violation";
  static final String NOT_ENOUGH_DATA = "not_enough_data";

  /** One check's outcome. {@code baseline} is the training value it was compared with. */
  record Check(
      String check,
      double value,
      double threshold,
      String status,
      Double baseline,
      String description) {}

  private DriftChecks() {}

  static List<Check> run(List<String> texts, List<Double> scoreList, Baseline b, Thresholds t) {
    int n = texts.size();
    boolean enough = n >= t.minRows();
    double[] scores = scoreList.stream().mapToDouble(Double::doubleValue).toArray();
    double[] lengths = texts.stream().mapToDouble(s -> s.codePointCount(0, s.length())).toArray();
    List<Check> out = new ArrayList<>();
    out.add(
        new Check(
            "rows",
            n,
            t.minRows(),
            enough ? PASS : NOT_ENOUGH_DATA,
            null,
            "captured rows in the window; under the threshold no check is judged"));
    if (n == 0) {
      return out;
    }

    double positive = share(scores, s -> s > b.threshold());
    add(
        out,
        enough,
        "positive_rate_change",
        Math.abs(positive - b.positiveRate()),
        t.positiveRateChange(),
        b.positiveRate(),
        String.format("share of scores over %.2f: %.3f", b.threshold(), positive));
    add(
        out,
        enough,
        "score_psi",
        DriftStats.psi(b.scoreHistogram(), DriftStats.scoreHistogram(scores)),
        t.scorePsi(),
        null,
        "population stability index of scores on ten fixed bins");
    add(
        out,
        enough,
        "score_ks",
        DriftStats.ks(scores, b.scorePercentiles()),
        t.scoreKs(),
        null,
        "Kolmogorov-Smirnov distance of scores to the baseline distribution");
    double low = share(scores, s -> s >= b.lowConfidenceLow() && s <= b.lowConfidenceHigh());
    add(
        out,
        enough,
        "low_confidence_share_increase",
        low - b.lowConfidenceShare(),
        t.lowConfidenceIncrease(),
        b.lowConfidenceShare(),
        String.format(
            "share of scores in [%.2f, %.2f]: %.3f",
            b.lowConfidenceLow(), b.lowConfidenceHigh(), low));
    double p50 = DriftStats.quantile(lengths, 0.5);
    double p95 = DriftStats.quantile(lengths, 0.95);
    add(
        out,
        enough,
        "text_length_p50_ratio",
        ratio(p50, b.lengthP50()),
        t.lengthRatio(),
        b.lengthP50(),
        String.format("median text length %.0f characters (larger/smaller vs baseline)", p50));
    add(
        out,
        enough,
        "text_length_p95_ratio",
        ratio(p95, b.lengthP95()),
        t.lengthRatio(),
        b.lengthP95(),
        String.format("95th percentile text length %.0f characters", p95));
    add(
        out,
        enough,
        "text_length_psi",
        DriftStats.psi(b.lengthHistogram(), DriftStats.lengthHistogram(lengths, b.lengthEdges())),
        t.lengthPsi(),
        null,
        "population stability index of text lengths on the baseline's bins");
    long tokens = 0;
    long unknown = 0;
    for (String text : texts) {
      for (String tok : DriftStats.tokens(text)) {
        tokens++;
        if (!b.vocabulary().contains(tok)) {
          unknown++;
        }
      }
    }
    double oov = tokens == 0 ? 0 : (double) unknown / tokens;
    add(
        out,
        enough,
        "oov_rate_increase",
        oov - b.oovRate(),
        t.oovIncrease(),
        b.oovRate(),
        String.format("share of tokens outside the model's vocabulary: %.3f", oov));
    double letterless = (double) texts.stream().filter(s -> !DriftStats.hasLetter(s)).count() / n;
    add(
        out,
        enough,
        "empty_or_non_letter_rate",
        letterless,
        t.emptyOrNonLetterRate(),
        b.emptyOrNonLetterRate(),
        "share of texts without a single letter");
    return out;
  }

  private static void add(
      List<Check> out,
      boolean enough,
      String name,
      double value,
      double threshold,
      Double baseline,
      String description) {
    String status = !enough ? NOT_ENOUGH_DATA : value > threshold ? VIOLATION : PASS;
    out.add(
        new Check(
            name,
            round(value),
            threshold,
            status,
            baseline == null ? null : round(baseline),
            description));
  }

  private static double share(double[] values, java.util.function.DoublePredicate p) {
    long k = java.util.Arrays.stream(values).filter(p).count();
    return (double) k / values.length;
  }

  /** How many times larger or smaller {@code v} is than {@code base} (1 = equal). */
  private static double ratio(double v, double base) {
    if (v <= 0 || base <= 0) {
      return v == base ? 1 : Double.POSITIVE_INFINITY;
    }
    return Math.max(v / base, base / v);
  }

  private static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
  }
}
