package dev.mlserve.release;

/**
 * One version's scores on the held-out set.
 *
 * @param rows rows scored
 * @param accuracy share of rows with {@code (score >= 0.5) == label}
 * @param rocAuc area under the ROC curve (ties counted half)
 * @param brier mean squared error of the score against the label
 * @param ece expected calibration error over ten equal-width bins
 * @param lowConfidenceShare share of rows whose score falls inside the low-confidence band
 * @param batchMaxDiff largest difference between a row scored alone and in a batch
 */
record OfflineMetrics(
    int rows,
    double accuracy,
    double rocAuc,
    double brier,
    double ece,
    double lowConfidenceShare,
    double batchMaxDiff) {

  static OfflineMetrics of(float[] scores, int[] labels, double[] band, double batchMaxDiff) {
    int n = scores.length;
    int correct = 0;
    int inBand = 0;
    double brier = 0;
    double[] binSum = new double[10];
    double[] binPos = new double[10];
    int[] binCount = new int[10];
    for (int i = 0; i < n; i++) {
      double p = scores[i];
      int y = labels[i];
      correct += (p >= 0.5 ? 1 : 0) == y ? 1 : 0;
      inBand += p >= band[0] && p <= band[1] ? 1 : 0;
      brier += (p - y) * (p - y);
      int bin = Math.min(9, Math.max(0, (int) Math.floor(p * 10)));
      binSum[bin] += p;
      binPos[bin] += y;
      binCount[bin]++;
    }
    double ece = 0;
    for (int b = 0; b < 10; b++) {
      if (binCount[b] > 0) {
        ece +=
            (double) binCount[b] / n * Math.abs(binSum[b] / binCount[b] - binPos[b] / binCount[b]);
      }
    }
    return new OfflineMetrics(
        n,
        (double) correct / n,
        rocAuc(scores, labels),
        brier / n,
        ece,
        (double) inBand / n,
        batchMaxDiff);
  }

  /** Mann-Whitney U with average ranks for ties (as training/train.py computes it). */
  static double rocAuc(float[] scores, int[] labels) {
    int n = scores.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Float.compare(scores[a], scores[b]));
    double[] ranks = new double[n];
    for (int i = 0; i < n; ) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      for (int k = i; k <= j; k++) {
        ranks[order[k]] = (i + j) / 2.0 + 1;
      }
      i = j + 1;
    }
    long pos = java.util.Arrays.stream(labels).filter(y -> y == 1).count();
    long neg = n - pos;
    if (pos == 0 || neg == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] == 1) {
        sum += ranks[i];
      }
    }
    return (sum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
  }
}
