package dev.mlserve.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.errors.ServingException;
import dev.mlserve.model.DType;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.TensorSpec;
import dev.mlserve.model.Values;
import dev.mlserve.predict.ModelView;
import dev.mlserve.predict.PredictResult;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Open Inference Protocol (KServe V2) REST shapes: {@code inputs}/{@code outputs} lists of
 * {@code {name, shape, datatype, data}} with flat (or nested) data.
 */
final class V2Api {
  private final JsonValues json;

  V2Api(JsonValues json) {
    this.json = json;
  }

  /** The signature named in {@code parameters.signature_name}, else the default. */
  static String signatureName(JsonNode body) {
    if (!body.isObject()) {
      throw ServingException.badRequest("the request body must be a JSON object");
    }
    JsonNode s = body.path("parameters").get("signature_name");
    if (s == null || s.isNull()) {
      return "";
    }
    if (!s.isTextual()) {
      throw ServingException.badRequest("parameters.signature_name must be a string");
    }
    return s.textValue();
  }

  /**
   * The inputs of an infer body by name, typed as the request declares them ({@code datatype});
   * whether they fit the model is the signature's to check.
   */
  Map<String, Values> parseInputs(JsonNode body) {
    JsonNode inputs = body.get("inputs");
    if (inputs == null || !inputs.isArray()) {
      throw ServingException.badRequest("'inputs' must be a list of {name, shape, datatype, data}");
    }
    if (inputs.isEmpty()) {
      throw ServingException.badRequest("'inputs' is empty: nothing to predict");
    }
    Map<String, Values> out = new LinkedHashMap<>();
    for (JsonNode in : inputs) {
      if (!in.isObject()) {
        throw ServingException.badRequest(
            "each input must be an object {name, shape, datatype, data}");
      }
      String name = in.path("name").asText("");
      if (name.isEmpty() || out.containsKey(name)) {
        throw ServingException.badRequest(
            name.isEmpty() ? "every input needs a name" : "input '" + name + "' appears twice");
      }
      String datatype = in.path("datatype").asText("");
      DType dtype =
          DType.fromV2Name(datatype)
              .orElseThrow(
                  () ->
                      ServingException.badRequest(
                          "input '" + name + "': unknown datatype '" + datatype + "'"));
      JsonNode shapeNode = in.get("shape");
      if (shapeNode == null || !shapeNode.isArray()) {
        throw ServingException.badRequest("input '" + name + "' needs a shape list");
      }
      long[] shape = new long[shapeNode.size()];
      for (int i = 0; i < shape.length; i++) {
        JsonNode d = shapeNode.get(i);
        if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
          throw ServingException.badRequest(
              "input '" + name + "': shape must hold whole numbers >= 0");
        }
        shape[i] = d.asLong();
      }
      JsonNode data = in.get("data");
      if (data == null) {
        throw ServingException.badRequest("input '" + name + "' has no data");
      }
      out.put(name, json.parseFlat(name, data, dtype, shape));
    }
    return out;
  }

  /** Output names the request asked for (empty: all). */
  static Set<String> requestedOutputs(JsonNode body) {
    JsonNode outs = body.get("outputs");
    if (outs == null || !outs.isArray() || outs.isEmpty()) {
      return Set.of();
    }
    Set<String> names = new LinkedHashSet<>();
    for (JsonNode o : outs) {
      names.add(o.path("name").asText(""));
    }
    return names;
  }

  static void writeInfer(JsonGenerator g, PredictResult p, String id) throws IOException {
    g.writeStartObject();
    g.writeStringField("model_name", p.model());
    g.writeStringField("model_version", Long.toString(p.version()));
    if (id != null) {
      g.writeStringField("id", id);
    }
    if (p.lowConfidenceRows().length > 0 || !p.variant().isEmpty()) {
      g.writeObjectFieldStart("parameters");
      if (!p.variant().isEmpty()) {
        g.writeStringField("variant", p.variant());
      }
      if (p.lowConfidenceRows().length > 0) {
        g.writeFieldName("low_confidence_rows");
        g.writeArray(p.lowConfidenceRows(), 0, p.lowConfidenceRows().length);
      }
      g.writeEndObject();
    }
    g.writeArrayFieldStart("outputs");
    for (var e : p.outputs().entrySet()) {
      Values v = e.getValue();
      g.writeStartObject();
      g.writeStringField("name", e.getKey());
      g.writeStringField("datatype", v.dtype().v2Name());
      g.writeFieldName("shape");
      g.writeArray(v.shape(), 0, v.shape().length);
      g.writeFieldName("data");
      JsonValues.writeFlat(g, v);
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  /** Model metadata: name, versions, platform and the default signature's tensors. */
  static ModelMetadata modelMetadata(ModelView.Version mv, List<Long> versions) {
    SignatureSpec spec = mv.defaultSignature();
    return new ModelMetadata(
        mv.model(),
        versions.stream().map(String::valueOf).toList(),
        "tensorflow_savedmodel",
        tensors(spec.inputs()),
        tensors(spec.outputs()));
  }

  private static List<Tensor> tensors(Map<String, TensorSpec> specs) {
    return specs.values().stream()
        .map(
            t ->
                new Tensor(
                    t.name(), t.dtype().v2Name(), t.shape() == null ? new long[] {-1} : t.shape()))
        .toList();
  }

  /** The V2 model metadata response. */
  record ModelMetadata(
      String name,
      List<String> versions,
      String platform,
      List<Tensor> inputs,
      List<Tensor> outputs) {}

  /** A tensor's metadata: -1 for a dimension of any size, [-1] for unknown rank. */
  record Tensor(String name, String datatype, long[] shape) {}
}
