package dev.mlserve.model;

/** A version that cannot be served: its folder, its graph or its warm-up failed. */
public final class ModelLoadException extends RuntimeException {
  public ModelLoadException(String name, long version, String reason) {
    super("model " + name + " version " + version + ": " + reason);
  }
}
