package dev.mlserve.predict;

import dev.mlserve.model.ModelVersion;

/**
 * Where a request goes: the acquired model version and the variant that chose it (empty when the
 * URL named a version or label, or the model has no variants). Handed to {@link
 * PredictionService#predict}, which releases the version; call {@link #release} only when the
 * request is abandoned before that.
 */
public record Route(ModelVersion model, String variant) {
  public void release() {
    model.release();
  }
}
