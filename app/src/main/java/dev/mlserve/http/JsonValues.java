package dev.mlserve.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.errors.ServingException;
import dev.mlserve.model.DType;
import dev.mlserve.model.Values;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * JSON arrays to {@link Values} and back, shared by the TensorFlow Serving and V2 adapters. Strings
 * may also come as {@code {"b64": "..."}} (TensorFlow Serving's binary form).
 */
final class JsonValues {
  private final int maxTextChars;

  JsonValues(int maxTextChars) {
    this.maxTextChars = maxTextChars;
  }

  /** True for TensorFlow Serving's {@code {"b64": "..."}} binary string object. */
  static boolean isB64(JsonNode n) {
    return n.isObject() && n.size() == 1 && n.has("b64");
  }

  /**
   * Parses a (nested) JSON value as a tensor: the nesting gives the shape, the leaves the type
   * (strings or {@code {"b64": ...}} → STRING, booleans → BOOL, whole numbers → INT64, other
   * numbers → DOUBLE). Whether that fits the model is the signature's business ({@link
   * dev.mlserve.model.SignatureSpec#conform}), not the wire format's.
   */
  Values parse(String input, JsonNode node) {
    List<Long> dims = new ArrayList<>();
    JsonNode n = node;
    while (n.isArray()) {
      dims.add((long) n.size());
      if (n.isEmpty()) {
        break;
      }
      n = n.get(0);
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long count;
    try {
      count = Values.elementCount(shape);
    } catch (ArithmeticException e) {
      throw ServingException.badRequest("input '" + input + "' is too large");
    }
    List<JsonNode> leaves = new ArrayList<>((int) Math.min(count, 1 << 16));
    collect(input, node, shape, 0, leaves);
    DType dtype = infer(input, leaves, shape);
    Flat flat = new Flat(input, dtype, leaves.size());
    for (JsonNode leaf : leaves) {
      flat.add(leaf, "");
    }
    return new Values(dtype, shape, flat.data);
  }

  private static void collect(
      String input, JsonNode n, long[] shape, int depth, List<JsonNode> leaves) {
    if (depth == shape.length) {
      if (n.isArray()) {
        throw ragged(input, leaves.size());
      }
      leaves.add(n);
      return;
    }
    if (!n.isArray() || n.size() != shape[depth]) {
      throw ragged(input, leaves.size());
    }
    for (int i = 0; i < n.size(); i++) {
      collect(input, n.get(i), shape, depth + 1, leaves);
    }
  }

  private static ServingException ragged(String input, int leaf) {
    return ServingException.badRequest(
        "input '"
            + input
            + "': ragged nesting after "
            + leaf
            + " values (rows must all have the same shape)");
  }

  /** The one element type all leaves share. */
  private static DType infer(String input, List<JsonNode> leaves, long[] shape) {
    DType type = null;
    for (int i = 0; i < leaves.size(); i++) {
      JsonNode n = leaves.get(i);
      DType t;
      if (n.isTextual() || isB64(n)) {
        t = DType.STRING;
      } else if (n.isBoolean()) {
        t = DType.BOOL;
      } else if (n.isIntegralNumber() && n.canConvertToLong()) {
        t = DType.INT64;
      } else if (n.isNumber()) {
        t = DType.DOUBLE;
      } else {
        throw ServingException.badRequest(
            "input '"
                + input
                + "': the value at "
                + at(shape, i)
                + " is "
                + kind(n)
                + "; values are strings, numbers or booleans");
      }
      if (type == null || type == t) {
        type = t;
      } else if ((type == DType.INT64 || type == DType.DOUBLE)
          && (t == DType.INT64 || t == DType.DOUBLE)) {
        type = DType.DOUBLE;
      } else {
        throw ServingException.badRequest(
            "input '"
                + input
                + "' mixes "
                + type.tfName()
                + " and "
                + t.tfName()
                + " values (at "
                + at(shape, i)
                + ")");
      }
    }
    return type == null ? DType.STRING : type;
  }

  /** The nested index of flat element {@code i}, as {@code [0][2]}. */
  private static String at(long[] shape, int i) {
    StringBuilder b = new StringBuilder();
    long rest = i;
    long[] idx = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = shape[d] == 0 ? 0 : rest % shape[d];
      rest = shape[d] == 0 ? 0 : rest / shape[d];
    }
    for (long x : idx) {
      b.append('[').append(x).append(']');
    }
    return b.length() == 0 ? "the top" : b.toString();
  }

  /** Parses a flat JSON array (V2's {@code data}) into the given shape. */
  Values parseFlat(String input, JsonNode data, DType dtype, long[] shape) {
    long count = Values.elementCount(shape);
    List<JsonNode> leaves = new ArrayList<>();
    flatten(data, leaves);
    if (leaves.size() != count) {
      throw ServingException.badRequest(
          "input '"
              + input
              + "': shape "
              + java.util.Arrays.toString(shape)
              + " needs "
              + count
              + " values but data has "
              + leaves.size());
    }
    Flat flat = new Flat(input, dtype, (int) count);
    for (JsonNode leaf : leaves) {
      flat.add(leaf, "");
    }
    return new Values(dtype, shape, flat.data);
  }

  private static void flatten(JsonNode n, List<JsonNode> out) {
    if (n.isArray()) {
      for (JsonNode c : n) {
        flatten(c, out);
      }
    } else {
      out.add(n);
    }
  }

  /** A growing flat array of one element type. */
  private final class Flat {
    final String input;
    final DType dtype;
    final Object data;
    int at;

    Flat(String input, DType dtype, int count) {
      this.input = input;
      this.dtype = dtype;
      this.data =
          switch (dtype) {
            case STRING -> new byte[count][];
            case FLOAT -> new float[count];
            case DOUBLE -> new double[count];
            case INT32 -> new int[count];
            case INT64 -> new long[count];
            case BOOL -> new boolean[count];
          };
    }

    void add(JsonNode n, String path) {
      switch (dtype) {
        case STRING -> ((byte[][]) data)[at] = string(n, path);
        case FLOAT -> ((float[]) data)[at] = (float) number(n, path);
        case DOUBLE -> ((double[]) data)[at] = number(n, path);
        case INT32 -> {
          long v = integer(n, path);
          if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw wrong(n, path, "a 32-bit integer");
          }
          ((int[]) data)[at] = (int) v;
        }
        case INT64 -> ((long[]) data)[at] = integer(n, path);
        case BOOL -> {
          if (!n.isBoolean()) {
            throw wrong(n, path, "true or false");
          }
          ((boolean[]) data)[at] = n.booleanValue();
        }
      }
      at++;
    }

    private byte[] string(JsonNode n, String path) {
      if (n.isTextual()) {
        String s = n.textValue();
        if (s.length() > maxTextChars) {
          throw ServingException.badRequest(
              "input '"
                  + input
                  + "': text"
                  + path
                  + " has "
                  + s.length()
                  + " characters (the limit is "
                  + maxTextChars
                  + ")");
        }
        return s.getBytes(StandardCharsets.UTF_8);
      }
      if (isB64(n) && n.get("b64").isTextual()) {
        try {
          byte[] b = Base64.getDecoder().decode(n.get("b64").textValue());
          if (b.length > maxTextChars * 4L) {
            throw ServingException.badRequest(
                "input '" + input + "': binary value" + path + " is too long");
          }
          return b;
        } catch (IllegalArgumentException e) {
          throw ServingException.badRequest("input '" + input + "': invalid base64 at " + path);
        }
      }
      throw wrong(n, path, "a string");
    }

    private double number(JsonNode n, String path) {
      if (!n.isNumber()) {
        throw wrong(n, path, "a number");
      }
      return n.doubleValue();
    }

    private long integer(JsonNode n, String path) {
      if (!n.isIntegralNumber() || !n.canConvertToLong()) {
        throw wrong(n, path, "an integer");
      }
      return n.longValue();
    }

    private ServingException wrong(JsonNode n, String path, String expected) {
      return ServingException.badRequest(
          "input '"
              + input
              + "' must hold "
              + expected
              + " ("
              + dtype.tfName()
              + ") but "
              + (path.isEmpty() ? "a value" : "the value at " + path)
              + " is "
              + kind(n));
    }
  }

  static String kind(JsonNode n) {
    return switch (n.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      case OBJECT -> "an object";
      case ARRAY -> "an array";
      default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  // ---- writing

  /** Writes rows [row] of {@code v} (or all of it when row < 0) as nested arrays. */
  static void write(JsonGenerator g, Values v, int row) throws IOException {
    long[] shape = v.shape();
    if (row < 0) {
      writeNested(g, v, shape, 0, 0);
      return;
    }
    int perRow = 1;
    for (int i = 1; i < shape.length; i++) {
      perRow *= (int) shape[i];
    }
    writeNested(g, v, shape, 1, row * perRow);
  }

  private static int writeNested(JsonGenerator g, Values v, long[] shape, int depth, int at)
      throws IOException {
    if (depth == shape.length) {
      writeElement(g, v, at);
      return at + 1;
    }
    g.writeStartArray();
    for (long i = 0; i < shape[depth]; i++) {
      at = writeNested(g, v, shape, depth + 1, at);
    }
    g.writeEndArray();
    return at;
  }

  /** Writes every element as one flat array (V2's data). */
  static void writeFlat(JsonGenerator g, Values v) throws IOException {
    g.writeStartArray();
    for (int i = 0; i < v.size(); i++) {
      writeElement(g, v, i);
    }
    g.writeEndArray();
  }

  static void writeElement(JsonGenerator g, Values v, int i) throws IOException {
    switch (v.dtype()) {
      case FLOAT -> {
        float f = ((float[]) v.data())[i];
        if (Float.isFinite(f)) {
          g.writeNumber(f);
        } else {
          g.writeString(Float.toString(f));
        }
      }
      case DOUBLE -> {
        double d = v.number(i);
        if (Double.isFinite(d)) {
          g.writeNumber(d);
        } else {
          g.writeString(Double.toString(d));
        }
      }
      case INT32, INT64 -> g.writeNumber(v.integer(i));
      case BOOL -> g.writeBoolean(v.bool(i));
      case STRING -> {
        byte[] b = v.bytes(i);
        String text = utf8(b);
        if (text != null) {
          g.writeString(text);
        } else {
          g.writeStartObject();
          g.writeStringField("b64", Base64.getEncoder().encodeToString(b));
          g.writeEndObject();
        }
      }
    }
  }

  private static String utf8(byte[] b) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
