package dev.mlserve.model;

import dev.mlserve.errors.ServingException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A servable signature of a SavedModel: named inputs and outputs with types and shapes. {@link
 * #conform} is the one place where a request's inputs are checked against the model — names, types
 * and shapes — before anything reaches TensorFlow; the wire formats only translate JSON.
 */
public record SignatureSpec(
    String key,
    String methodName,
    Map<String, TensorSpec> inputs,
    Map<String, TensorSpec> outputs) {

  /**
   * The key under which a request may give its only input without naming it (TensorFlow Serving's
   * {@code "instances": [...]} for a single-input signature).
   */
  public static final String UNNAMED = "";

  /** True when every input and output can take stacked rows (dimension 0 unknown). */
  public boolean batchable() {
    return inputs.values().stream().allMatch(TensorSpec::batchable)
        && outputs.values().stream().allMatch(TensorSpec::batchable);
  }

  /** The single input's name when there is exactly one. */
  public String soleInputName() {
    return inputs.size() == 1 ? inputs.keySet().iterator().next() : null;
  }

  /**
   * Checks names, types and shapes of the given inputs against this signature and returns them in
   * the signature's order, converted to the signature's types. An input under {@link #UNNAMED} is
   * the sole input. Whole numbers fit any numeric type (INT32 within its range), fractional ones
   * FLOAT and DOUBLE. A value one rank short of a spec whose last dimension is 1 gets that
   * dimension added: {@code ["a", "b"]} fits {@code [-1, 1]}, as clients of Keras models expect.
   *
   * @throws ServingException.BadInput naming the first problem
   */
  public Map<String, Values> conform(Map<String, Values> given) {
    if (given.containsKey(UNNAMED)) {
      String only = soleInputName();
      if (only == null || given.size() != 1) {
        throw new ServingException.BadInput(
            "signature '"
                + key
                + "' has inputs "
                + inputs.keySet()
                + ": the request must name each of them");
      }
      given = Map.of(only, given.get(UNNAMED));
    }
    for (String name : given.keySet()) {
      if (!inputs.containsKey(name)) {
        throw new ServingException.BadInput(
            "signature '"
                + key
                + "' has no input '"
                + name
                + "'; its inputs are "
                + inputs.keySet());
      }
    }
    Map<String, Values> out = new LinkedHashMap<>();
    long rows = -1;
    for (TensorSpec spec : inputs.values()) {
      Values v = given.get(spec.name());
      if (v == null) {
        throw new ServingException.BadInput(
            "missing input '" + spec.name() + "' for signature '" + key + "'");
      }
      v = fitType(spec, v);
      v = fitShape(spec, v);
      if (spec.batchable()) {
        if (v.shape()[0] == 0) {
          throw new ServingException.BadInput("input '" + spec.name() + "' has no rows");
        }
        if (rows >= 0 && v.shape()[0] != rows) {
          throw new ServingException.BadInput(
              "inputs disagree on the number of rows: " + rows + " vs " + v.shape()[0]);
        }
        rows = v.shape()[0];
      }
      out.put(spec.name(), v);
    }
    return out;
  }

  /** Rows in conformed inputs: dimension 0 of a batchable input, else 1. */
  public int rows(Map<String, Values> conformed) {
    for (TensorSpec spec : inputs.values()) {
      if (spec.batchable()) {
        return (int) conformed.get(spec.name()).rows();
      }
    }
    return 1;
  }

  private static Values fitType(TensorSpec spec, Values v) {
    DType want = spec.dtype();
    DType got = v.dtype();
    if (got == want) {
      return v;
    }
    if (v.size() == 0) { // an empty JSON list has no type of its own
      return new Values(want, v.shape(), Values.emptyArray(want));
    }
    int n = v.size();
    boolean wholeNumbers = got == DType.INT32 || got == DType.INT64;
    switch (want) {
      case FLOAT -> {
        if (wholeNumbers || got == DType.DOUBLE) {
          float[] f = new float[n];
          for (int i = 0; i < n; i++) {
            f[i] = (float) v.number(i);
          }
          return new Values(want, v.shape(), f);
        }
      }
      case DOUBLE -> {
        if (wholeNumbers || got == DType.FLOAT) {
          double[] d = new double[n];
          for (int i = 0; i < n; i++) {
            d[i] = v.number(i);
          }
          return new Values(want, v.shape(), d);
        }
      }
      case INT64 -> {
        if (got == DType.INT32) {
          long[] l = new long[n];
          for (int i = 0; i < n; i++) {
            l[i] = v.integer(i);
          }
          return new Values(want, v.shape(), l);
        }
      }
      case INT32 -> {
        if (got == DType.INT64) {
          int[] ints = new int[n];
          for (int i = 0; i < n; i++) {
            long x = v.integer(i);
            if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
              throw new ServingException.BadInput(
                  "input '" + spec.name() + "' must hold 32-bit integers but holds " + x);
            }
            ints[i] = (int) x;
          }
          return new Values(want, v.shape(), ints);
        }
      }
      default -> {}
    }
    throw new ServingException.BadInput(
        "input '"
            + spec.name()
            + "' must hold "
            + describe(want)
            + " but the request sent "
            + describe(got));
  }

  private static String describe(DType t) {
    String what =
        switch (t) {
          case STRING -> "strings";
          case BOOL -> "booleans";
          case INT32, INT64 -> "whole numbers";
          case FLOAT, DOUBLE -> "numbers";
        };
    return what + " (" + t.tfName() + ", V2 " + t.v2Name() + ")";
  }

  private Values fitShape(TensorSpec spec, Values v) {
    if (spec.unknownRank()) {
      return v;
    }
    long[] want = spec.shape();
    long[] got = v.shape();
    if (got.length == want.length - 1 && want[want.length - 1] == 1) {
      long[] reshaped = Arrays.copyOf(got, got.length + 1);
      reshaped[got.length] = 1;
      v = v.reshape(reshaped);
      got = reshaped;
    }
    boolean fits = got.length == want.length;
    for (int i = 0; fits && i < want.length; i++) {
      fits = want[i] == -1 || want[i] == got[i];
    }
    if (!fits) {
      throw new ServingException.BadInput(
          "input '"
              + spec.name()
              + "' must have shape "
              + describe(want)
              + " but got "
              + describe(got));
    }
    return v;
  }

  private static String describe(long[] shape) {
    return Arrays.toString(shape).replace("-1", "?");
  }
}
