package dev.mlserve.predict;

import dev.mlserve.config.ModelSettings.Variant;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks a production variant by weight: at random, or from a hash of a sticky key so the same key
 * keeps landing on the same variant while the weights stay the same.
 */
final class VariantRouter {
  private VariantRouter() {}

  static Variant choose(List<Variant> variants, Optional<String> stickyKey) {
    double total = variants.stream().mapToDouble(Variant::weight).sum();
    double point =
        stickyKey.isPresent()
            ? unitInterval(stickyKey.get()) * total
            : ThreadLocalRandom.current().nextDouble(total);
    double acc = 0;
    Variant last = null;
    for (Variant v : variants) {
      if (v.weight() <= 0) {
        continue;
      }
      acc += v.weight();
      last = v;
      if (point < acc) {
        return v;
      }
    }
    return last;
  }

  /** A stable hash of the key mapped onto [0, 1): FNV-1a, then a 64-bit finaliser. */
  static double unitInterval(String key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (h >>> 11) * 0x1.0p-53;
  }
}
