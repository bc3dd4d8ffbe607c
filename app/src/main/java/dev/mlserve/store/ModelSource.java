package dev.mlserve.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;

/**
 * Where model versions come from: a folder or a bucket laid out as {@code <model>/<version>/}
 * (TensorFlow Serving's layout) with an optional {@code <model>/serving.json}. Every name and
 * version it returns has passed {@link dev.mlserve.config.Identifiers}.
 */
public interface ModelSource {
  /** For logs: the folder or URI. */
  String describe();

  /** Model names present. */
  List<String> models() throws IOException;

  /** Complete versions of a model (a half-uploaded version is not listed). */
  SortedSet<Long> versions(String model) throws IOException;

  /** The model's serving.json, if it has one. */
  Optional<byte[]> settings(String model) throws IOException;

  /** A local folder holding the whole version, verified; downloads it first if need be. */
  Path materialize(String model, long version) throws IOException;

  /** The version is no longer served: its local copy may go. */
  default void evict(String model, long version) {}
}
