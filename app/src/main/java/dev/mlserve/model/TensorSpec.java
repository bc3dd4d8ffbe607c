package dev.mlserve.model;

import java.util.Arrays;

/**
 * One input or output of a signature: its name, element type and shape ({@code -1} marks an unknown
 * dimension; {@code shape == null} an unknown rank).
 *
 * @param name the signature's key for it (e.g. {@code text})
 * @param tensorName the graph tensor it maps to (e.g. {@code serving_default_text:0})
 */
public record TensorSpec(String name, DType dtype, long[] shape, String tensorName) {

  public boolean unknownRank() {
    return shape == null;
  }

  /** True when dimension 0 is unknown, so rows from several requests can be stacked. */
  public boolean batchable() {
    return shape != null && shape.length > 0 && shape[0] == -1;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && tensorName.equals(t.tensorName);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ":" + dtype.tfName() + (shape == null ? "[?]" : Arrays.toString(shape));
  }
}
