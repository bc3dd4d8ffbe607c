package dev.mlserve.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The low-confidence band: a single score within [low, high] (inclusive) is flagged for review. The
 * one type for it, shared by the server's default ({@code LOW_CONFIDENCE_BAND}), a model's {@code
 * serving.json} ({@code "low_confidence_band": [0.4, 0.6]}) and the jobs that score offline.
 */
public record Band(double low, double high) {
  public Band {
    if (!(low >= 0 && low <= high && high <= 1)) {
      throw new IllegalArgumentException(
          "a band needs 0 <= low <= high <= 1, got [" + low + ", " + high + "]");
    }
  }

  /** True when {@code score} is inside the band. */
  public boolean flags(double score) {
    return score >= low && score <= high;
  }

  /** Parses {@code "0.4,0.6"}; throws with a readable message. */
  public static Band parse(String text) {
    String[] parts = text.split(",");
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "expected two numbers like 0.4,0.6 but got '" + text + "'");
    }
    try {
      return new Band(Double.parseDouble(parts[0].trim()), Double.parseDouble(parts[1].trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "expected two numbers like 0.4,0.6 but got '" + text + "'");
    }
  }

  /** serving.json's form: {@code [low, high]}. */
  @JsonCreator
  static Band fromArray(double[] lowHigh) {
    if (lowHigh == null || lowHigh.length != 2) {
      throw new IllegalArgumentException("low_confidence_band must be [low, high]");
    }
    return new Band(lowHigh[0], lowHigh[1]);
  }

  @JsonValue
  double[] toArray() {
    return new double[] {low, high};
  }
}
