package dev.mlserve.drift;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * A model version's training baseline ({@code assets.extra/baseline.json}, written by
 * training/baseline.py): score histogram and percentiles, positive rate, low-confidence share, text
 * length bins and quantiles, vocabulary and out-of-vocabulary rate on held-out data.
 */
record Baseline(
    int n,
    double threshold,
    double lowConfidenceLow,
    double lowConfidenceHigh,
    double[] scoreHistogram,
    double[] scorePercentiles,
    double positiveRate,
    double lowConfidenceShare,
    double[] lengthEdges,
    double[] lengthHistogram,
    double lengthP50,
    double lengthP95,
    double oovRate,
    Set<String> vocabulary,
    double emptyOrNonLetterRate) {

  static final String FILE = "assets.extra/baseline.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Parses baseline.json; a missing or malformed field is an IOException naming it. */
  static Baseline parse(byte[] json) throws IOException {
    JsonNode root = JSON.readTree(json);
    if (root == null || root.path("format").asInt() != 1) {
      throw new IOException("baseline.json: expected format 1");
    }
    JsonNode score = root.path("score");
    JsonNode length = root.path("text_length");
    JsonNode band = root.path("low_confidence_band");
    Set<String> vocabulary = new HashSet<>();
    root.path("tokens").path("vocabulary").forEach(t -> vocabulary.add(t.asText()));
    if (vocabulary.isEmpty()) {
      throw new IOException("baseline.json: tokens.vocabulary is empty");
    }
    Baseline b =
        new Baseline(
            number(root, "n").intValue(),
            number(root, "threshold"),
            band.path(0).asDouble(0.4),
            band.path(1).asDouble(0.6),
            doubles(score, "histogram", DriftStats.SCORE_BINS.length),
            doubles(score, "percentiles", 101),
            number(score, "positive_rate"),
            number(score, "low_confidence_share"),
            doubles(length, "edges", -1),
            doubles(length, "histogram", -1),
            number(length, "p50"),
            number(length, "p95"),
            number(root.path("tokens"), "oov_rate"),
            Set.copyOf(vocabulary),
            number(root, "empty_or_non_letter_rate"));
    if (b.lengthEdges.length != b.lengthHistogram.length) {
      throw new IOException("baseline.json: text_length edges and histogram differ in size");
    }
    return b;
  }

  private static Double number(JsonNode node, String field) throws IOException {
    JsonNode v = node.get(field);
    if (v == null || !v.isNumber()) {
      throw new IOException("baseline.json: " + field + " missing or not a number");
    }
    return v.asDouble();
  }

  private static double[] doubles(JsonNode node, String field, int size) throws IOException {
    JsonNode v = node.get(field);
    if (v == null || !v.isArray() || (size >= 0 && v.size() != size) || v.isEmpty()) {
      throw new IOException(
          "baseline.json: " + field + " must be an array" + (size >= 0 ? " of " + size : ""));
    }
    double[] out = new double[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = v.get(i).asDouble();
    }
    return out;
  }
}
