package dev.mlserve.model;

import dev.mlserve.errors.ServingException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A servable signature of a SavedModel: named inputs and outputs with types and shapes. It checks
 * that a request's inputs fit before anything reaches TensorFlow.
 */
public record SignatureSpec(
    String key,
    String methodName,
    Map<String, TensorSpec> inputs,
    Map<String, TensorSpec> outputs) {

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
   * the signature's order. A value one rank short of a spec whose last dimension is 1 gets that
   * dimension added: {@code ["a", "b"]} fits {@code [-1, 1]}, as clients of Keras models expect.
   *
   * @throws ServingException 400 naming the first problem
   */
  public Map<String, Values> conform(Map<String, Values> given) {
    for (String name : given.keySet()) {
      if (!inputs.containsKey(name)) {
        throw ServingException.badRequest(
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
        throw ServingException.badRequest(
            "missing input '" + spec.name() + "' for signature '" + key + "'");
      }
      if (v.dtype() != spec.dtype()) {
        throw ServingException.badRequest(
            "input '"
                + spec.name()
                + "' must be "
                + spec.dtype().tfName()
                + " but got "
                + v.dtype().tfName());
      }
      v = fitShape(spec, v);
      if (spec.batchable()) {
        if (v.shape()[0] == 0) {
          throw ServingException.badRequest("input '" + spec.name() + "' has no rows");
        }
        if (rows >= 0 && v.shape()[0] != rows) {
          throw ServingException.badRequest(
              "inputs disagree on the number of rows: " + rows + " vs " + v.shape()[0]);
        }
        rows = v.shape()[0];
      }
      out.put(spec.name(), v);
    }
    return out;
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
      throw ServingException.badRequest(
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
