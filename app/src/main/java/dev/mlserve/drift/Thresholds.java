package dev.mlserve.drift;

/**
 * When a check fails. PSI 0.2 is the usual "significant shift" line; the others are absolute
 * changes against the baseline, chosen to stay quiet on in-distribution samples of a few hundred
 * rows (docs/MONITORING.md shows the measured values).
 */
record Thresholds(
    int minRows,
    double scorePsi,
    double scoreKs,
    double positiveRateChange,
    double lowConfidenceIncrease,
    double lengthRatio,
    double lengthPsi,
    double oovIncrease,
    double emptyOrNonLetterRate) {

  static Thresholds defaults(int minRows) {
    return new Thresholds(minRows, 0.2, 0.15, 0.15, 0.15, 2.0, 0.2, 0.10, 0.05);
  }
}
