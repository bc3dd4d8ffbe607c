package dev.mlserve.warmup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Request bodies for one model, built from its V2 metadata (input names, datatypes, shapes), so the
 * training run works for any model the image serves: the same rows in TensorFlow Serving's row and
 * columnar formats and in V2's tensor format. String inputs get texts from a sample list, numeric
 * ones small numbers.
 */
final class TrainingRequests {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One input of the model's default signature. */
  record Input(String name, String datatype, long[] shape) {}

  /** The three API shapes a request can take. */
  enum Format {
    TF_ROW,
    TF_COLUMNAR,
    V2
  }

  private final String model;
  private final List<Input> inputs;
  private final List<String> texts;

  TrainingRequests(String model, List<Input> inputs, List<String> texts) {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("model '" + model + "' lists no inputs");
    }
    if (texts.isEmpty()) {
      throw new IllegalArgumentException("no sample texts");
    }
    this.model = model;
    this.inputs = List.copyOf(inputs);
    this.texts = List.copyOf(texts);
  }

  /** Reads the inputs from a {@code GET /v2/models/{model}} answer. */
  static List<Input> inputsFromV2Metadata(JsonNode metadata) {
    List<Input> out = new ArrayList<>();
    for (JsonNode in : metadata.path("inputs")) {
      JsonNode shapeNode = in.path("shape");
      long[] shape = new long[shapeNode.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeNode.get(i).asLong();
      }
      out.add(new Input(in.path("name").asText(), in.path("datatype").asText(), shape));
    }
    return out;
  }

  String model() {
    return model;
  }

  /** The path a request in {@code format} is posted to. */
  String path(Format format) {
    return format == Format.V2
        ? "/v2/models/" + model + "/infer"
        : "/v1/models/" + model + ":predict";
  }

  /** A body of {@code rows} rows in {@code format}. */
  String body(Format format, int rows, Random random) {
    // one value per row and input, in the row's nested shape (the dimensions after the first)
    List<List<JsonNode>> values = new ArrayList<>();
    for (Input in : inputs) {
      List<JsonNode> perRow = new ArrayList<>(rows);
      for (int r = 0; r < rows; r++) {
        perRow.add(rowValue(in, 1, random));
      }
      values.add(perRow);
    }
    ObjectNode body = NODES.objectNode();
    switch (format) {
      case TF_ROW -> {
        ArrayNode instances = body.putArray("instances");
        for (int r = 0; r < rows; r++) {
          if (inputs.size() == 1) {
            instances.add(values.get(0).get(r));
          } else {
            ObjectNode row = instances.addObject();
            for (int i = 0; i < inputs.size(); i++) {
              row.set(inputs.get(i).name(), values.get(i).get(r));
            }
          }
        }
      }
      case TF_COLUMNAR -> {
        if (inputs.size() == 1) {
          body.putArray("inputs").addAll(values.get(0));
        } else {
          ObjectNode columns = body.putObject("inputs");
          for (int i = 0; i < inputs.size(); i++) {
            columns.putArray(inputs.get(i).name()).addAll(values.get(i));
          }
        }
      }
      case V2 -> {
        ArrayNode tensors = body.putArray("inputs");
        for (int i = 0; i < inputs.size(); i++) {
          Input in = inputs.get(i);
          ObjectNode t = tensors.addObject();
          t.put("name", in.name());
          ArrayNode shape = t.putArray("shape").add(rows);
          for (int d = 1; d < in.shape().length; d++) {
            shape.add(Math.max(1, in.shape()[d]));
          }
          t.put("datatype", in.datatype());
          ArrayNode data = t.putArray("data");
          for (JsonNode v : values.get(i)) {
            flatten(v, data);
          }
        }
      }
    }
    try {
      return JSON.writeValueAsString(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private JsonNode rowValue(Input in, int dim, Random random) {
    if (dim >= in.shape().length) {
      return scalar(in.datatype(), random);
    }
    ArrayNode a = NODES.arrayNode();
    long n = Math.max(1, in.shape()[dim]);
    for (long i = 0; i < n; i++) {
      a.add(rowValue(in, dim + 1, random));
    }
    return a;
  }

  private JsonNode scalar(String datatype, Random random) {
    return switch (datatype) {
      case "BYTES" -> NODES.textNode(texts.get(random.nextInt(texts.size())));
      case "BOOL" -> NODES.booleanNode(random.nextBoolean());
      case "FP32", "FP64" -> NODES.numberNode(random.nextDouble());
      default -> NODES.numberNode(random.nextInt(10));
    };
  }

  private static void flatten(JsonNode v, ArrayNode into) {
    if (v.isArray()) {
      v.forEach(e -> flatten(e, into));
    } else {
      into.add(v);
    }
  }
}
