package dev.mlserve.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.config.VersionPolicy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A model's serving settings, read from {@code <model>/serving.json} beside its versions (in the
 * folder or the bucket), so they travel with the model and change without a restart. Every field is
 * optional; the environment's defaults fill the rest.
 *
 * <pre>{@code
 * {
 *   "version_policy": "latest:2",
 *   "labels": {"stable": 1, "canary": 2},
 *   "variants": [{"name": "a", "version": 1, "weight": 90},
 *                {"name": "b", "version": 2, "weight": 10}],
 *   "sticky_header": "X-User-Id",
 *   "batching": {"enabled": true, "max_batch_size": 256, "max_wait_micros": 1000,
 *                "max_queue_rows": 8192},
 *   "capture_sample_percent": 10,
 *   "low_confidence_band": [0.4, 0.6]
 * }
 * }</pre>
 */
public record ModelSettings(
    Optional<VersionPolicy> versionPolicy,
    Map<String, Long> labels,
    List<Variant> variants,
    Optional<String> stickyHeader,
    Optional<Boolean> batchingEnabled,
    OptionalInt maxBatchSize,
    OptionalLong maxWaitMicros,
    OptionalInt maxQueueRows,
    OptionalDouble captureSamplePercent,
    Optional<double[]> lowConfidenceBand) {

  public static final String FILE_NAME = "serving.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One production variant: traffic share {@code weight} goes to {@code model} (default: the routed
   * model itself) at {@code version} (default: its latest).
   */
  public record Variant(String name, Optional<String> model, OptionalLong version, double weight) {}

  public static ModelSettings none() {
    return new ModelSettings(
        Optional.empty(),
        Map.of(),
        List.of(),
        Optional.empty(),
        Optional.empty(),
        OptionalInt.empty(),
        OptionalLong.empty(),
        OptionalInt.empty(),
        OptionalDouble.empty(),
        Optional.empty());
  }

  /**
   * Parses serving.json.
   *
   * @throws IllegalArgumentException naming the first problem
   */
  public static ModelSettings parse(byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("must be a JSON object");
    }
    Optional<VersionPolicy> policy =
        root.hasNonNull("version_policy")
            ? Optional.of(VersionPolicy.parse(root.get("version_policy").asText()))
            : Optional.empty();
    Map<String, Long> labels = new LinkedHashMap<>();
    JsonNode l = root.path("labels");
    if (!l.isMissingNode()) {
      if (!l.isObject()) {
        throw new IllegalArgumentException("labels must be an object of label: version");
      }
      l.fields()
          .forEachRemaining(
              e -> {
                if (!Identifiers.isName(e.getKey())) {
                  throw new IllegalArgumentException("invalid label name '" + e.getKey() + "'");
                }
                if (!e.getValue().canConvertToLong() || e.getValue().asLong() < 1) {
                  throw new IllegalArgumentException(
                      "label '" + e.getKey() + "' must point at a positive version number");
                }
                labels.put(e.getKey(), e.getValue().asLong());
              });
    }
    List<Variant> variants = new ArrayList<>();
    JsonNode vs = root.path("variants");
    if (!vs.isMissingNode()) {
      if (!vs.isArray()) {
        throw new IllegalArgumentException("variants must be an array");
      }
      for (JsonNode v : vs) {
        String name = v.path("name").asText("");
        if (!Identifiers.isName(name)) {
          throw new IllegalArgumentException(
              "every variant needs a valid name, got '" + name + "'");
        }
        Optional<String> model = Optional.empty();
        if (v.hasNonNull("model")) {
          String m = v.get("model").asText();
          if (!Identifiers.isName(m)) {
            throw new IllegalArgumentException("variant '" + name + "': invalid model '" + m + "'");
          }
          model = Optional.of(m);
        }
        OptionalLong version = OptionalLong.empty();
        if (v.hasNonNull("version")) {
          if (!v.get("version").canConvertToLong() || v.get("version").asLong() < 1) {
            throw new IllegalArgumentException("variant '" + name + "': version must be positive");
          }
          version = OptionalLong.of(v.get("version").asLong());
        }
        double weight = v.path("weight").asDouble(-1);
        if (!(weight >= 0) || !v.path("weight").isNumber()) {
          throw new IllegalArgumentException(
              "variant '" + name + "': weight must be a number >= 0");
        }
        variants.add(new Variant(name, model, version, weight));
      }
      if (!variants.isEmpty() && variants.stream().mapToDouble(Variant::weight).sum() <= 0) {
        throw new IllegalArgumentException("variant weights must not all be zero");
      }
    }
    JsonNode b = root.path("batching");
    double[] band = null;
    JsonNode bandNode = root.path("low_confidence_band");
    if (!bandNode.isMissingNode() && !bandNode.isNull()) {
      if (!bandNode.isArray()
          || bandNode.size() != 2
          || !(bandNode.get(0).asDouble() <= bandNode.get(1).asDouble())) {
        throw new IllegalArgumentException(
            "low_confidence_band must be [low, high] with low <= high");
      }
      band = new double[] {bandNode.get(0).asDouble(), bandNode.get(1).asDouble()};
    }
    OptionalDouble capture = OptionalDouble.empty();
    if (root.hasNonNull("capture_sample_percent")) {
      double p = root.get("capture_sample_percent").asDouble(-1);
      if (!(p >= 0 && p <= 100)) {
        throw new IllegalArgumentException("capture_sample_percent must be within 0..100");
      }
      capture = OptionalDouble.of(p);
    }
    return new ModelSettings(
        policy,
        Map.copyOf(labels),
        List.copyOf(variants),
        Optional.ofNullable(
            root.hasNonNull("sticky_header") ? root.get("sticky_header").asText() : null),
        b.hasNonNull("enabled") ? Optional.of(b.get("enabled").asBoolean()) : Optional.empty(),
        positiveInt(b, "max_batch_size"),
        b.hasNonNull("max_wait_micros")
            ? OptionalLong.of(Math.max(0, b.get("max_wait_micros").asLong()))
            : OptionalLong.empty(),
        positiveInt(b, "max_queue_rows"),
        capture,
        Optional.ofNullable(band));
  }

  private static OptionalInt positiveInt(JsonNode parent, String field) {
    if (!parent.hasNonNull(field)) {
      return OptionalInt.empty();
    }
    int n = parent.get(field).asInt(0);
    if (n < 1) {
      throw new IllegalArgumentException("batching." + field + " must be a positive whole number");
    }
    return OptionalInt.of(n);
  }
}
