package dev.mlserve.model;

import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * The tensor element types the service can feed and read, with their names in TensorFlow Serving
 * ({@code DT_FLOAT}) and in the V2 inference protocol ({@code FP32}). Plain Java arrays hold the
 * values: STRING {@code byte[][]}, FLOAT {@code float[]}, DOUBLE {@code double[]}, INT32 {@code
 * int[]}, INT64 {@code long[]}, BOOL {@code boolean[]}.
 */
public enum DType {
  STRING("DT_STRING", "BYTES"),
  FLOAT("DT_FLOAT", "FP32"),
  DOUBLE("DT_DOUBLE", "FP64"),
  INT32("DT_INT32", "INT32"),
  INT64("DT_INT64", "INT64"),
  BOOL("DT_BOOL", "BOOL");

  private final String tfName;
  private final String v2Name;

  DType(String tfName, String v2Name) {
    this.tfName = tfName;
    this.v2Name = v2Name;
  }

  /** TensorFlow's name, e.g. {@code DT_FLOAT}. */
  public String tfName() {
    return tfName;
  }

  /** The V2 inference protocol's name, e.g. {@code FP32}. */
  public String v2Name() {
    return v2Name;
  }

  public static Optional<DType> fromV2Name(String name) {
    for (DType t : values()) {
      if (t.v2Name.equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  static Optional<DType> fromProto(DataType type) {
    return switch (type) {
      case DT_STRING -> Optional.of(STRING);
      case DT_FLOAT -> Optional.of(FLOAT);
      case DT_DOUBLE -> Optional.of(DOUBLE);
      case DT_INT32 -> Optional.of(INT32);
      case DT_INT64 -> Optional.of(INT64);
      case DT_BOOL -> Optional.of(BOOL);
      default -> Optional.empty();
    };
  }
}
