package dev.mlserve.drift;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** The statistics of the drift checks, on plain arrays: bins, PSI, KS distance, quantiles. */
final class DriftStats {
  /** Upper bounds of the score bins: the service's mlserve_prediction_score buckets. */
  static final double[] SCORE_BINS = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};

  /** A share below this counts as this in PSI, so an empty bin does not make it infinite. */
  private static final double PSI_FLOOR = 1e-4;

  private static final Pattern PUNCTUATION =
      Pattern.compile("[!\"#$%&()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~']");
  private static final Pattern BR = Pattern.compile("<br\\s*/?>", Pattern.CASE_INSENSITIVE);
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern LETTER = Pattern.compile("\\p{L}");

  private DriftStats() {}

  /** Shares per score bin; bin i holds (upper[i-1], upper[i]], the first [0, 0.1]. */
  static double[] scoreHistogram(double[] scores) {
    double[] h = new double[SCORE_BINS.length];
    for (double s : scores) {
      int i = 0;
      while (i < SCORE_BINS.length - 1 && s > SCORE_BINS[i]) {
        i++;
      }
      h[i]++;
    }
    return shares(h, scores.length);
  }

  /** Shares per length bin: [edges[i], edges[i+1]), the last one open. */
  static double[] lengthHistogram(double[] lengths, double[] edges) {
    double[] h = new double[edges.length];
    for (double l : lengths) {
      int i = edges.length - 1;
      while (i > 0 && l < edges[i]) {
        i--;
      }
      h[i]++;
    }
    return shares(h, lengths.length);
  }

  private static double[] shares(double[] counts, int n) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] = n == 0 ? 0 : counts[i] / n;
    }
    return counts;
  }

  /** Population stability index of {@code actual} against {@code expected} bin shares. */
  static double psi(double[] expected, double[] actual) {
    double psi = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.max(expected[i], PSI_FLOOR);
      double a = Math.max(actual[i], PSI_FLOOR);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  /**
   * Kolmogorov–Smirnov distance between the sample and the baseline distribution given by its 101
   * percentiles (linear between them): the largest gap between the two CDFs.
   */
  static double ks(double[] sample, double[] percentiles) {
    double[] x = sample.clone();
    Arrays.sort(x);
    int n = x.length;
    double d = 0;
    for (int i = 0; i < n; i++) {
      double f = baselineCdf(x[i], percentiles);
      d = Math.max(d, Math.max(Math.abs((i + 1.0) / n - f), Math.abs(f - (double) i / n)));
    }
    return d;
  }

  static double baselineCdf(double v, double[] pct) {
    if (v < pct[0]) {
      return 0;
    }
    if (v >= pct[pct.length - 1]) {
      return 1;
    }
    int i = 0;
    while (i < pct.length - 2 && v >= pct[i + 1]) {
      i++;
    }
    double span = pct[i + 1] - pct[i];
    double within = span <= 0 ? 1 : (v - pct[i]) / span;
    return (i + within) / (pct.length - 1);
  }

  /** The q-quantile (0..1), linear between order statistics (numpy's default). */
  static double quantile(double[] values, double q) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] x = values.clone();
    Arrays.sort(x);
    double pos = q * (x.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, x.length - 1);
    return x[lo] + (x[hi] - x[lo]) * (pos - lo);
  }

  /** The model's standardisation (training/baseline.py tokens()): lower, no br, no punctuation. */
  static List<String> tokens(String text) {
    String s = BR.matcher(text.toLowerCase(Locale.ROOT)).replaceAll(" ");
    s = PUNCTUATION.matcher(s).replaceAll("").strip();
    return s.isEmpty() ? List.of() : List.of(WHITESPACE.split(s));
  }

  static boolean hasLetter(String text) {
    return LETTER.matcher(text).find();
  }
}
