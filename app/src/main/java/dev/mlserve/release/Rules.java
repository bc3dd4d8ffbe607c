package dev.mlserve.release;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The thresholds of the evaluation gate and of the live judgement: sensible defaults, overridden
 * per model by {@code release.gate} / {@code release.live} in serving.json. An unknown name or a
 * non-number is an error, not silently ignored: a typo must not switch a safety rule off.
 */
final class Rules {
  /** Offline gate: absolute floors, then "no worse than stable by more than". */
  static final Map<String, Double> GATE_DEFAULTS = new LinkedHashMap<>();

  /** Live judgement over the bake time, candidate vs stable on the same split traffic. */
  static final Map<String, Double> LIVE_DEFAULTS = new LinkedHashMap<>();

  static {
    GATE_DEFAULTS.put("min_accuracy", 0.80);
    GATE_DEFAULTS.put("min_roc_auc", 0.85);
    GATE_DEFAULTS.put("max_brier", 0.15);
    GATE_DEFAULTS.put("max_ece", 0.05);
    GATE_DEFAULTS.put("max_low_confidence_share", 0.20);
    GATE_DEFAULTS.put("max_batch_diff", 1e-4);
    GATE_DEFAULTS.put("max_accuracy_drop", 0.01);
    GATE_DEFAULTS.put("max_roc_auc_drop", 0.01);
    GATE_DEFAULTS.put("max_brier_rise", 0.01);
    GATE_DEFAULTS.put("max_ece_rise", 0.02);
    GATE_DEFAULTS.put("max_low_confidence_rise", 0.05);
    GATE_DEFAULTS.put("max_card_accuracy_gap", 0.01);
    LIVE_DEFAULTS.put("min_requests", 200.0);
    LIVE_DEFAULTS.put("max_error_rate_rise", 0.01);
    LIVE_DEFAULTS.put("max_p99_ratio", 1.5);
    LIVE_DEFAULTS.put("p99_slack_seconds", 0.05);
    LIVE_DEFAULTS.put("max_low_confidence_rise", 0.10);
    LIVE_DEFAULTS.put("max_positive_rate_diff", 0.15);
    LIVE_DEFAULTS.put("max_psi", 0.2);
  }

  private final Map<String, Double> values;

  private Rules(Map<String, Double> values) {
    this.values = Map.copyOf(values);
  }

  static Rules gate(JsonNode overrides) {
    return new Rules(merge("release.gate", GATE_DEFAULTS, overrides));
  }

  static Rules live(JsonNode overrides) {
    return new Rules(merge("release.live", LIVE_DEFAULTS, overrides));
  }

  double get(String name) {
    Double v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no rule " + name);
    }
    return v;
  }

  Rules with(String name, double value) {
    Map<String, Double> copy = new LinkedHashMap<>(values);
    copy.put(name, value);
    return new Rules(copy);
  }

  private static Map<String, Double> merge(
      String where, Map<String, Double> defaults, JsonNode overrides) {
    Map<String, Double> merged = new LinkedHashMap<>(defaults);
    if (overrides == null || overrides.isMissingNode() || overrides.isNull()) {
      return merged;
    }
    if (!overrides.isObject()) {
      throw new IllegalArgumentException(where + " must be an object of rule: number");
    }
    overrides
        .fields()
        .forEachRemaining(
            e -> {
              if (!defaults.containsKey(e.getKey())) {
                throw new IllegalArgumentException(
                    where + ": unknown rule '" + e.getKey() + "'; known: " + defaults.keySet());
              }
              if (!e.getValue().isNumber() || e.getValue().asDouble() < 0) {
                throw new IllegalArgumentException(
                    where + "." + e.getKey() + " must be a number >= 0");
              }
              merged.put(e.getKey(), e.getValue().asDouble());
            });
    return merged;
  }
}
