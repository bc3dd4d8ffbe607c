package dev.mlserve.model;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.List;

/**
 * A tensor's worth of values in plain Java: element type, shape and a flat row-major array (see
 * {@link DType} for which array). This is what crosses the boundary of the model package; no
 * TensorFlow object ever leaves it.
 */
public record Values(DType dtype, long[] shape, Object data) {

  public Values {
    long n = elementCount(shape);
    if (Array.getLength(data) != n) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " needs "
              + n
              + " values, got "
              + Array.getLength(data));
    }
  }

  public static Values strings(long[] shape, byte[][] data) {
    return new Values(DType.STRING, shape, data);
  }

  /** A zero-length array of the Java type that holds {@code dtype}. */
  public static Object emptyArray(DType dtype) {
    return switch (dtype) {
      case STRING -> new byte[0][];
      case FLOAT -> new float[0];
      case DOUBLE -> new double[0];
      case INT32 -> new int[0];
      case INT64 -> new long[0];
      case BOOL -> new boolean[0];
    };
  }

  /** Number of elements a shape holds. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public int size() {
    return Array.getLength(data);
  }

  /** Dimension 0, or 1 for a scalar. */
  public long rows() {
    return shape.length == 0 ? 1 : shape[0];
  }

  public Values reshape(long[] newShape) {
    return new Values(dtype, newShape, data);
  }

  public double number(int i) {
    return switch (dtype) {
      case FLOAT -> ((float[]) data)[i];
      case DOUBLE -> ((double[]) data)[i];
      case INT32 -> ((int[]) data)[i];
      case INT64 -> ((long[]) data)[i];
      case BOOL -> ((boolean[]) data)[i] ? 1 : 0;
      case STRING -> throw new IllegalStateException("strings are not numbers");
    };
  }

  public byte[] bytes(int i) {
    return ((byte[][]) data)[i];
  }

  public boolean bool(int i) {
    return ((boolean[]) data)[i];
  }

  public long integer(int i) {
    return switch (dtype) {
      case INT32 -> ((int[]) data)[i];
      case INT64 -> ((long[]) data)[i];
      default -> (long) number(i);
    };
  }

  /** Rows [from, to) along dimension 0. */
  public Values sliceRows(long from, long to) {
    int perRow =
        (int) (shape.length == 0 ? 1 : elementCount(Arrays.copyOfRange(shape, 1, shape.length)));
    long[] newShape = shape.clone();
    newShape[0] = to - from;
    Object slice =
        Array.newInstance(data.getClass().getComponentType(), (int) ((to - from) * perRow));
    System.arraycopy(data, (int) from * perRow, slice, 0, (int) ((to - from) * perRow));
    return new Values(dtype, newShape, slice);
  }

  /** Stacks values of the same type and trailing shape along dimension 0. */
  public static Values concatRows(List<Values> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Values first = parts.get(0);
    long rows = 0;
    int total = 0;
    for (Values p : parts) {
      rows += p.shape[0];
      total += p.size();
    }
    Object joined = Array.newInstance(first.data.getClass().getComponentType(), total);
    int at = 0;
    for (Values p : parts) {
      System.arraycopy(p.data, 0, joined, at, p.size());
      at += p.size();
    }
    long[] shape = first.shape.clone();
    shape[0] = rows;
    return new Values(first.dtype, shape, joined);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Values v
        && dtype == v.dtype
        && Arrays.equals(shape, v.shape)
        && Arrays.deepEquals(new Object[] {data}, new Object[] {v.data});
  }

  @Override
  public int hashCode() {
    return dtype.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return dtype + Arrays.toString(shape);
  }
}
