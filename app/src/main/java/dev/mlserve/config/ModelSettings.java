package dev.mlserve.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A model's serving settings as written in {@code <model>/serving.json} beside its versions (in the
 * folder or the bucket), so they travel with the model and change without a restart. Every field is
 * optional; the environment's defaults fill the rest. {@link #parse} and {@link #toJson}
 * round-trip, so jobs (the release controller) can write the file the server reads.
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
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelSettings(
    @JsonProperty("version_policy") Optional<VersionPolicy> versionPolicy,
    @JsonProperty("labels") Map<String, Long> labels,
    @JsonProperty("variants") List<Variant> variants,
    @JsonProperty("sticky_header") Optional<String> stickyHeader,
    @JsonProperty("batching") Batching batching,
    @JsonProperty("capture_sample_percent") OptionalDouble captureSamplePercent,
    @JsonProperty("low_confidence_band") Optional<Band> lowConfidenceBand) {

  public static final String FILE_NAME = "serving.json";
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(SerializationFeature.INDENT_OUTPUT);

  public ModelSettings {
    versionPolicy = versionPolicy == null ? Optional.empty() : versionPolicy;
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    variants = variants == null ? List.of() : List.copyOf(variants);
    stickyHeader = stickyHeader == null ? Optional.empty() : stickyHeader;
    batching = batching == null ? Batching.NONE : batching;
    captureSamplePercent =
        captureSamplePercent == null ? OptionalDouble.empty() : captureSamplePercent;
    lowConfidenceBand = lowConfidenceBand == null ? Optional.empty() : lowConfidenceBand;
    labels.forEach(
        (label, version) -> {
          if (!Identifiers.isName(label)) {
            throw new IllegalArgumentException("invalid label name '" + label + "'");
          }
          if (version == null || version < 1) {
            throw new IllegalArgumentException(
                "label '" + label + "' must point at a positive version number");
          }
        });
    if (!variants.isEmpty() && variants.stream().mapToDouble(Variant::weight).sum() <= 0) {
      throw new IllegalArgumentException("variant weights must not all be zero");
    }
    if (captureSamplePercent.isPresent()
        && !(captureSamplePercent.getAsDouble() >= 0
            && captureSamplePercent.getAsDouble() <= 100)) {
      throw new IllegalArgumentException("capture_sample_percent must be within 0..100");
    }
  }

  /**
   * One production variant: traffic share {@code weight} goes to {@code model} (default: the routed
   * model itself) at {@code version} (default: its latest).
   */
  @JsonInclude(JsonInclude.Include.NON_ABSENT)
  public record Variant(
      @JsonProperty(value = "name", required = true) String name,
      @JsonProperty("model") Optional<String> model,
      @JsonProperty("version") OptionalLong version,
      @JsonProperty(value = "weight", required = true) double weight) {
    public Variant {
      if (!Identifiers.isName(name)) {
        throw new IllegalArgumentException("every variant needs a valid name, got '" + name + "'");
      }
      model = model == null ? Optional.empty() : model;
      version = version == null ? OptionalLong.empty() : version;
      if (model.isPresent() && !Identifiers.isName(model.get())) {
        throw new IllegalArgumentException(
            "variant '" + name + "': invalid model '" + model.get() + "'");
      }
      if (version.isPresent() && version.getAsLong() < 1) {
        throw new IllegalArgumentException("variant '" + name + "': version must be positive");
      }
      if (!(weight >= 0)) {
        throw new IllegalArgumentException("variant '" + name + "': weight must be a number >= 0");
      }
    }
  }

  /** Dynamic batching overrides; an empty field takes the server's default. */
  @JsonInclude(JsonInclude.Include.NON_ABSENT)
  public record Batching(
      @JsonProperty("enabled") Optional<Boolean> enabled,
      @JsonProperty("max_batch_size") OptionalInt maxBatchSize,
      @JsonProperty("max_wait_micros") OptionalLong maxWaitMicros,
      @JsonProperty("max_queue_rows") OptionalInt maxQueueRows) {
    public static final Batching NONE =
        new Batching(
            Optional.empty(), OptionalInt.empty(), OptionalLong.empty(), OptionalInt.empty());

    public Batching {
      enabled = enabled == null ? Optional.empty() : enabled;
      maxBatchSize = maxBatchSize == null ? OptionalInt.empty() : maxBatchSize;
      maxWaitMicros = maxWaitMicros == null ? OptionalLong.empty() : maxWaitMicros;
      maxQueueRows = maxQueueRows == null ? OptionalInt.empty() : maxQueueRows;
      if (maxBatchSize.isPresent() && maxBatchSize.getAsInt() < 1) {
        throw new IllegalArgumentException("batching.max_batch_size must be a positive number");
      }
      if (maxQueueRows.isPresent() && maxQueueRows.getAsInt() < 1) {
        throw new IllegalArgumentException("batching.max_queue_rows must be a positive number");
      }
      if (maxWaitMicros.isPresent() && maxWaitMicros.getAsLong() < 0) {
        throw new IllegalArgumentException("batching.max_wait_micros must be >= 0");
      }
    }
  }

  public static ModelSettings none() {
    return new ModelSettings(null, null, null, null, null, null, null);
  }

  /**
   * Parses serving.json.
   *
   * @throws IllegalArgumentException naming the first problem
   */
  public static ModelSettings parse(byte[] json) {
    try {
      ModelSettings s = JSON.readValue(json, ModelSettings.class);
      if (s == null) {
        throw new IllegalArgumentException("must be a JSON object");
      }
      return s;
    } catch (JsonProcessingException e) {
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        if (c instanceof IllegalArgumentException iae) {
          throw new IllegalArgumentException(iae.getMessage(), e);
        }
      }
      String msg = e.getOriginalMessage();
      int at = msg.indexOf("\n");
      throw new IllegalArgumentException(
          "not valid serving.json: " + (at > 0 ? msg.substring(0, at) : msg), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable: " + e.getMessage(), e);
    }
  }

  /** serving.json text that {@link #parse} reads back as an equal record. */
  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write serving.json", e);
    }
  }
}
