package dev.mlserve.release;

/**
 * One variant's live numbers over the bake window, summed over every task that served it.
 *
 * @param requests prediction requests answered (any status)
 * @param errors requests answered 5xx plus requests the model itself rejected (a 4xx the stable
 *     version does not give)
 * @param p99Seconds 99th percentile latency of successful requests
 * @param rows rows scored
 * @param lowConfidenceShare rows inside the low-confidence band / rows
 * @param positiveRate rows scored above 0.5 / rows
 * @param scoreBins share of rows in each tenth of [0, 1]
 */
record LiveMetrics(
    double requests,
    double errors,
    double p99Seconds,
    double rows,
    double lowConfidenceShare,
    double positiveRate,
    double[] scoreBins) {

  double errorRate() {
    return requests > 0 ? errors / requests : Double.NaN;
  }

  /**
   * Population stability index of {@code candidate}'s score distribution against {@code
   * reference}'s: sum of (c - r) ln(c / r) over the bins, empty bins floored at 1e-4.
   */
  static double psi(double[] reference, double[] candidate) {
    double psi = 0;
    for (int i = 0; i < reference.length; i++) {
      double r = Math.max(reference[i], 1e-4);
      double c = Math.max(candidate[i], 1e-4);
      psi += (c - r) * Math.log(c / r);
    }
    return psi;
  }
}
