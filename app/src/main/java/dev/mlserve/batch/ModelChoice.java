package dev.mlserve.batch;

import dev.mlserve.config.Band;
import dev.mlserve.config.ModelSettings;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.config.VersionPolicy;
import dev.mlserve.store.ModelSource;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;

/**
 * Which model version a job scores with, resolved the way the service resolves it: an explicit
 * version, else a label from the model's serving.json, else the highest version the version policy
 * serves; and the low-confidence band: serving.json's, else {@code LOW_CONFIDENCE_BAND}.
 *
 * @param band [low, high], or null when flagging is off
 */
public record ModelChoice(String model, long version, Optional<String> label, Band band) {

  /** Resolves against the store without loading anything. */
  public static ModelChoice resolve(ModelSource source, BatchConfig config) throws IOException {
    String model = config.model().orElse(null);
    if (model == null) {
      List<String> models = source.models();
      if (models.size() != 1) {
        throw new IOException(
            "set BATCH_MODEL: the store "
                + source.describe()
                + " holds "
                + (models.isEmpty() ? "no model" : "several models " + models));
      }
      model = models.get(0);
    }
    ModelSettings settings = settings(source, model);
    SortedSet<Long> available = source.versions(model);
    if (available.isEmpty()) {
      throw new IOException("model " + model + " has no complete version in " + source.describe());
    }
    long version;
    if (config.modelVersion().isPresent()) {
      version = config.modelVersion().getAsLong();
      if (!available.contains(version)) {
        throw new IOException(
            "model " + model + " has no version " + version + "; it has " + available);
      }
    } else if (config.modelLabel().isPresent()) {
      Long v = settings.labels().get(config.modelLabel().get());
      if (v == null || !available.contains(v)) {
        throw new IOException(
            "model "
                + model
                + ": label '"
                + config.modelLabel().get()
                + "' is "
                + (v == null
                    ? "not in its serving.json"
                    : "version " + v + ", which is not there"));
      }
      version = v;
    } else {
      VersionPolicy policy = settings.versionPolicy().orElse(config.server().versionPolicy());
      var chosen = policy.select(available);
      if (chosen.isEmpty()) {
        throw new IOException(
            "model " + model + ": the version policy " + policy + " selects none of " + available);
      }
      version = chosen.first(); // highest first
    }
    ServerConfig server = config.server();
    Band band = settings.lowConfidenceBand().or(server::lowConfidenceBand).orElse(null);
    return new ModelChoice(model, version, config.modelLabel(), band);
  }

  private static ModelSettings settings(ModelSource source, String model) throws IOException {
    Optional<byte[]> raw = source.settings(model);
    if (raw.isEmpty()) {
      return ModelSettings.none();
    }
    try {
      return ModelSettings.parse(raw.get());
    } catch (IllegalArgumentException e) {
      throw new IOException("model " + model + ": serving.json is invalid: " + e.getMessage());
    }
  }
}
