package dev.mlserve.predict;

import dev.mlserve.config.ModelSettings.Variant;
import dev.mlserve.model.ModelRegistry.VersionStatus;
import dev.mlserve.model.SignatureSpec;
import java.util.List;
import java.util.Map;

/**
 * A read-only picture of one served model for status pages and metadata: the state of every
 * version, the live ones, its labels and variants. Plain values: nothing in it is held or released.
 */
public record ModelView(
    String name,
    List<VersionStatus> versions,
    List<Long> live,
    Map<String, Long> labels,
    List<Variant> variants) {

  /** One live version's signatures and model card. */
  public record Version(
      String model, long version, Map<String, SignatureSpec> signatures, Map<String, Object> card) {

    /** The default signature (as {@code signature_name} "" picks it). */
    public SignatureSpec defaultSignature() {
      SignatureSpec s = signatures.get("serving_default");
      return s != null ? s : signatures.values().iterator().next();
    }
  }
}
