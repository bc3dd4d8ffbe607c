package dev.mlserve.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.errors.ServingException;
import dev.mlserve.model.Identifiers;
import dev.mlserve.model.ModelRegistry;
import dev.mlserve.model.ModelRegistry.VersionStatus;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.TensorSpec;
import dev.mlserve.model.Values;
import dev.mlserve.predict.Prediction;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TensorFlow Serving's REST API, translated to and from the shared prediction path: {@code
 * /v1/models/{m}[/versions/{v}|/labels/{l}][:predict|/metadata]}, row ({@code instances}) and
 * columnar ({@code inputs}) request formats.
 */
final class TfServingApi {
  /** What a /v1/models/... path names. */
  record Target(String model, OptionalLong version, Optional<String> label, String verb) {}

  private static final Pattern PATH =
      Pattern.compile(
          "(?<model>[^/:]+)(?:/versions/(?<version>[^/:]+)|/labels/(?<label>[^/:]+))?(?<verb>:[a-z]+|/metadata)?/?");

  private final JsonValues json;

  TfServingApi(JsonValues json) {
    this.json = json;
  }

  static Target parsePath(String rest) {
    Matcher m = PATH.matcher(rest);
    if (!m.matches()) {
      throw ServingException.notFound("no such endpoint: /v1/models/" + rest);
    }
    String model = Identifiers.requireName("model name", m.group("model"));
    OptionalLong version =
        m.group("version") == null
            ? OptionalLong.empty()
            : OptionalLong.of(Identifiers.requireVersion(m.group("version")));
    Optional<String> label =
        Optional.ofNullable(m.group("label")).map(l -> Identifiers.requireName("label", l));
    String verb = m.group("verb") == null ? "" : m.group("verb");
    return new Target(model, version, label, verb);
  }

  /** The signature a :predict body asks for (checked to be a string). */
  static String signatureName(JsonNode body) {
    if (!body.isObject()) {
      throw ServingException.badRequest("the request body must be a JSON object");
    }
    JsonNode s = body.get("signature_name");
    if (s == null || s.isNull()) {
      return "";
    }
    if (!s.isTextual()) {
      throw ServingException.badRequest("signature_name must be a string");
    }
    return s.textValue();
  }

  /** True for the row format ({@code instances}), false for the columnar one ({@code inputs}). */
  static boolean rowFormat(JsonNode body) {
    boolean rows = body.has("instances");
    if (rows == body.has("inputs")) {
      throw ServingException.badRequest(
          "the body needs exactly one of 'instances' (row format) or 'inputs' (columnar format)");
    }
    return rows;
  }

  /** Parses a :predict body's tensors for {@code spec}. */
  Map<String, Values> parseInputs(SignatureSpec spec, JsonNode body) {
    return rowFormat(body)
        ? parseInstances(spec, body.get("instances"))
        : parseColumns(spec, body.get("inputs"));
  }

  private Map<String, Values> parseInstances(SignatureSpec spec, JsonNode instances) {
    if (!instances.isArray()) {
      throw ServingException.badRequest("'instances' must be a list");
    }
    if (instances.isEmpty()) {
      throw ServingException.badRequest("'instances' is empty: nothing to predict");
    }
    JsonNode first = instances.get(0);
    boolean named = first.isObject() && !JsonValues.isB64(first);
    Map<String, Values> out = new LinkedHashMap<>();
    if (!named) {
      String only = spec.soleInputName();
      if (only == null) {
        throw ServingException.badRequest(
            "signature '"
                + spec.key()
                + "' has inputs "
                + spec.inputs().keySet()
                + ": each instance must be an object naming them");
      }
      out.put(only, json.parse(only, instances, spec.inputs().get(only).dtype()));
      return out;
    }
    for (TensorSpec in : spec.inputs().values()) {
      var column =
          com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode(instances.size());
      for (JsonNode instance : instances) {
        if (!instance.isObject() || JsonValues.isB64(instance)) {
          throw ServingException.badRequest(
              "every instance must be an object when the first one is");
        }
        JsonNode v = instance.get(in.name());
        if (v == null) {
          throw ServingException.badRequest("an instance lacks input '" + in.name() + "'");
        }
        column.add(v);
      }
      out.put(in.name(), json.parse(in.name(), column, in.dtype()));
    }
    for (Iterator<String> it = first.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!spec.inputs().containsKey(name)) {
        throw ServingException.badRequest(
            "signature '"
                + spec.key()
                + "' has no input '"
                + name
                + "'; its inputs are "
                + spec.inputs().keySet());
      }
    }
    return out;
  }

  private Map<String, Values> parseColumns(SignatureSpec spec, JsonNode inputs) {
    Map<String, Values> out = new LinkedHashMap<>();
    boolean named = inputs.isObject() && !JsonValues.isB64(inputs);
    if (!named) {
      String only = spec.soleInputName();
      if (only == null) {
        throw ServingException.badRequest(
            "signature '"
                + spec.key()
                + "' has inputs "
                + spec.inputs().keySet()
                + ": 'inputs' must name them");
      }
      out.put(only, json.parse(only, inputs, spec.inputs().get(only).dtype()));
      return out;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = inputs.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      TensorSpec in = spec.inputs().get(e.getKey());
      if (in == null) {
        throw ServingException.badRequest(
            "signature '"
                + spec.key()
                + "' has no input '"
                + e.getKey()
                + "'; its inputs are "
                + spec.inputs().keySet());
      }
      out.put(in.name(), json.parse(in.name(), e.getValue(), in.dtype()));
    }
    return out;
  }

  /** {"predictions": ...} for the row format, {"outputs": ...} for the columnar one. */
  static void writePrediction(JsonGenerator g, Prediction p, boolean rowFormat) throws IOException {
    Map<String, Values> out = p.outputs();
    g.writeStartObject();
    if (rowFormat) {
      g.writeArrayFieldStart("predictions");
      long rows = out.values().iterator().next().rows();
      for (int r = 0; r < rows; r++) {
        if (out.size() == 1) {
          JsonValues.write(g, out.values().iterator().next(), r);
        } else {
          g.writeStartObject();
          for (var e : out.entrySet()) {
            g.writeFieldName(e.getKey());
            JsonValues.write(g, e.getValue(), r);
          }
          g.writeEndObject();
        }
      }
      g.writeEndArray();
    } else {
      g.writeFieldName("outputs");
      if (out.size() == 1) {
        JsonValues.write(g, out.values().iterator().next(), -1);
      } else {
        g.writeStartObject();
        for (var e : out.entrySet()) {
          g.writeFieldName(e.getKey());
          JsonValues.write(g, e.getValue(), -1);
        }
        g.writeEndObject();
      }
    }
    g.writeEndObject();
  }

  /** GetModelStatus: every version (or the one asked for) with its state. */
  static void writeStatus(JsonGenerator g, ModelRegistry registry, Target t) throws IOException {
    List<VersionStatus> all = registry.status(t.model());
    if (all.isEmpty()) {
      throw ServingException.notFound("model '" + t.model() + "' is not served here");
    }
    OptionalLong wanted = t.version();
    if (t.label().isPresent()) {
      wanted = OptionalLong.of(registry.resolveLabel(t.model(), t.label().get()));
    }
    g.writeStartObject();
    g.writeArrayFieldStart("model_version_status");
    boolean any = false;
    for (VersionStatus s : all) {
      if (wanted.isPresent() && s.version() != wanted.getAsLong()) {
        continue;
      }
      any = true;
      g.writeStartObject();
      g.writeStringField("version", Long.toString(s.version()));
      g.writeStringField("state", s.state().name());
      g.writeObjectFieldStart("status");
      g.writeStringField("error_code", s.error().isPresent() ? "UNKNOWN" : "OK");
      g.writeStringField("error_message", s.error().orElse(""));
      g.writeEndObject();
      g.writeEndObject();
    }
    if (!any) {
      throw ServingException.notFound(
          "model '" + t.model() + "' has no version " + wanted.getAsLong());
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  /** GetModelMetadata with the signature_def map, shaped as TensorFlow Serving prints it. */
  static void writeMetadata(JsonGenerator g, ModelVersion mv) throws IOException {
    g.writeStartObject();
    g.writeObjectFieldStart("model_spec");
    g.writeStringField("name", mv.name());
    g.writeStringField("signature_name", "");
    g.writeStringField("version", Long.toString(mv.version()));
    g.writeEndObject();
    g.writeObjectFieldStart("metadata");
    g.writeObjectFieldStart("signature_def");
    g.writeObjectFieldStart("signature_def");
    for (SignatureSpec s : mv.signatures().values()) {
      g.writeObjectFieldStart(s.key());
      writeTensorInfos(g, "inputs", s.inputs());
      writeTensorInfos(g, "outputs", s.outputs());
      g.writeStringField("method_name", s.methodName());
      g.writeEndObject();
    }
    g.writeEndObject();
    g.writeEndObject();
    if (!mv.card().isEmpty()) {
      g.writeObjectField("model_card", mv.card());
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  private static void writeTensorInfos(JsonGenerator g, String field, Map<String, TensorSpec> specs)
      throws IOException {
    g.writeObjectFieldStart(field);
    for (TensorSpec t : specs.values()) {
      g.writeObjectFieldStart(t.name());
      g.writeStringField("dtype", t.dtype().tfName());
      g.writeObjectFieldStart("tensor_shape");
      g.writeArrayFieldStart("dim");
      if (t.shape() != null) {
        for (long d : t.shape()) {
          g.writeStartObject();
          g.writeStringField("size", Long.toString(d));
          g.writeStringField("name", "");
          g.writeEndObject();
        }
      }
      g.writeEndArray();
      g.writeBooleanField("unknown_rank", t.unknownRank());
      g.writeEndObject();
      g.writeStringField("name", t.tensorName());
      g.writeEndObject();
    }
    g.writeEndObject();
  }
}
