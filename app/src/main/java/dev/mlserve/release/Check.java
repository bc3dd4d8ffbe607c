package dev.mlserve.release;

/**
 * One rule applied to one metric, with the numbers: a row of the decision table.
 *
 * @param metric what was measured
 * @param candidate the candidate's value, formatted
 * @param stable the stable version's value, formatted ("-" when there is none)
 * @param rule the rule with its limit, e.g. {@code >= 0.80} or {@code <= stable + 0.01}
 * @param passed whether the candidate met it
 */
record Check(String metric, String candidate, String stable, String rule, boolean passed) {

  static String num(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return Math.abs(v) >= 100 ? String.format("%.0f", v) : String.format("%.4f", v);
  }
}
