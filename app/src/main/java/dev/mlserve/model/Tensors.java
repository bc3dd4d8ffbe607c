package dev.mlserve.model;

import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/** Plain Java values to TensorFlow tensors and back; the only place that knows both. */
final class Tensors {
  private Tensors() {}

  /** A new tensor the caller must close. */
  static Tensor toTensor(Values v) {
    Shape shape = Shape.of(v.shape());
    return switch (v.dtype()) {
      case STRING -> TString.tensorOfBytes(shape, DataBuffers.ofObjects((byte[][]) v.data()));
      case FLOAT -> TFloat32.tensorOf(shape, DataBuffers.of((float[]) v.data(), true, false));
      case DOUBLE -> TFloat64.tensorOf(shape, DataBuffers.of((double[]) v.data(), true, false));
      case INT32 -> TInt32.tensorOf(shape, DataBuffers.of((int[]) v.data(), true, false));
      case INT64 -> TInt64.tensorOf(shape, DataBuffers.of((long[]) v.data(), true, false));
      case BOOL -> TBool.tensorOf(shape, DataBuffers.of((boolean[]) v.data(), true, false));
    };
  }

  /** Copies a tensor's contents out; the tensor stays owned (and closed) by the caller. */
  static Values fromTensor(Tensor t, DType dtype) {
    long[] shape = t.shape().asArray();
    int n = (int) t.shape().size();
    return switch (dtype) {
      case STRING -> {
        byte[][] out = new byte[n][];
        ((TString) t).asBytes().copyTo(DataBuffers.of(out, false, false));
        yield new Values(dtype, shape, out);
      }
      case FLOAT -> {
        float[] out = new float[n];
        ((TFloat32) t).copyTo(DataBuffers.of(out, false, false));
        yield new Values(dtype, shape, out);
      }
      case DOUBLE -> {
        double[] out = new double[n];
        ((TFloat64) t).copyTo(DataBuffers.of(out, false, false));
        yield new Values(dtype, shape, out);
      }
      case INT32 -> {
        int[] out = new int[n];
        ((TInt32) t).copyTo(DataBuffers.of(out, false, false));
        yield new Values(dtype, shape, out);
      }
      case INT64 -> {
        long[] out = new long[n];
        ((TInt64) t).copyTo(DataBuffers.of(out, false, false));
        yield new Values(dtype, shape, out);
      }
      case BOOL -> {
        boolean[] out = new boolean[n];
        ((TBool) t).copyTo(DataBuffers.of(out, false, false));
        yield new Values(dtype, shape, out);
      }
    };
  }
}
