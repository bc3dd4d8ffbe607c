package dev.mlserve.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserve.config.Identifiers;
import dev.mlserve.errors.ServingException;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.TensorSpec;
import dev.mlserve.model.Values;
import dev.mlserve.predict.ModelView;
import dev.mlserve.predict.PredictResult;
import java.io.IOException;
import java.util.ArrayList;
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

  /**
   * The inputs of a :predict body by name, or under {@link SignatureSpec#UNNAMED} when the body
   * gives one unnamed tensor. Only the wire format is checked here; names, types and shapes are the
   * signature's to check.
   */
  Map<String, Values> parseInputs(JsonNode body) {
    return rowFormat(body)
        ? parseInstances(body.get("instances"))
        : parseColumns(body.get("inputs"));
  }

  private Map<String, Values> parseInstances(JsonNode instances) {
    if (!instances.isArray()) {
      throw ServingException.badRequest("'instances' must be a list");
    }
    if (instances.isEmpty()) {
      throw ServingException.badRequest("'instances' is empty: nothing to predict");
    }
    JsonNode first = instances.get(0);
    if (!first.isObject() || JsonValues.isB64(first)) {
      return Map.of(SignatureSpec.UNNAMED, json.parse("instances", instances));
    }
    Map<String, Values> out = new LinkedHashMap<>();
    for (Iterator<String> names = first.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      ArrayNode column = JsonNodeFactory.instance.arrayNode(instances.size());
      for (JsonNode instance : instances) {
        if (!instance.isObject() || JsonValues.isB64(instance)) {
          throw ServingException.badRequest(
              "every instance must be an object when the first one is");
        }
        JsonNode v = instance.get(name);
        if (v == null) {
          throw ServingException.badRequest("an instance lacks input '" + name + "'");
        }
        if (instance.size() != first.size()) {
          throw ServingException.badRequest("every instance must name the same inputs");
        }
        column.add(v);
      }
      out.put(name, json.parse(name, column));
    }
    return out;
  }

  private Map<String, Values> parseColumns(JsonNode inputs) {
    if (!inputs.isObject() || JsonValues.isB64(inputs)) {
      return Map.of(SignatureSpec.UNNAMED, json.parse("inputs", inputs));
    }
    Map<String, Values> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = inputs.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), json.parse(e.getKey(), e.getValue()));
    }
    return out;
  }

  /** {"predictions": ...} for the row format, {"outputs": ...} for the columnar one. */
  static void writePrediction(JsonGenerator g, PredictResult p, boolean rowFormat)
      throws IOException {
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
  static ModelStatus status(ModelView model, OptionalLong wanted) {
    List<VersionState> shown =
        model.versions().stream()
            .filter(s -> wanted.isEmpty() || s.version() == wanted.getAsLong())
            .map(
                s ->
                    new VersionState(
                        Long.toString(s.version()),
                        s.state().name(),
                        new Status(s.error().isPresent() ? "UNKNOWN" : "OK", s.error().orElse(""))))
            .toList();
    if (shown.isEmpty()) {
      throw ServingException.notFound(
          "model '" + model.name() + "' has no version " + wanted.getAsLong());
    }
    return new ModelStatus(shown);
  }

  /** GetModelMetadata with the signature_def map, shaped as TensorFlow Serving prints it. */
  static ModelMetadata metadata(ModelView.Version mv) {
    Map<String, SignatureDef> defs = new LinkedHashMap<>();
    for (SignatureSpec s : mv.signatures().values()) {
      defs.put(
          s.key(),
          new SignatureDef(tensorInfos(s.inputs()), tensorInfos(s.outputs()), s.methodName()));
    }
    return new ModelMetadata(
        new ModelSpec(mv.model(), "", Long.toString(mv.version())),
        new Metadata(new SignatureDefMap(defs), mv.card()));
  }

  private static Map<String, TensorInfo> tensorInfos(Map<String, TensorSpec> specs) {
    Map<String, TensorInfo> out = new LinkedHashMap<>();
    for (TensorSpec t : specs.values()) {
      List<Dim> dims = new ArrayList<>();
      if (t.shape() != null) {
        for (long d : t.shape()) {
          dims.add(new Dim(Long.toString(d), ""));
        }
      }
      out.put(
          t.name(),
          new TensorInfo(
              t.dtype().tfName(), new TensorShape(dims, t.unknownRank()), t.tensorName()));
    }
    return out;
  }

  // TensorFlow Serving's JSON bodies (its protos printed as JSON, field names in snake case)

  /** GetModelStatusResponse. */
  @JsonNaming(SnakeCaseStrategy.class)
  record ModelStatus(List<VersionState> modelVersionStatus) {}

  /** One version's state; {@code status} is a google.rpc-like code and message. */
  record VersionState(String version, String state, Status status) {}

  @JsonNaming(SnakeCaseStrategy.class)
  record Status(String errorCode, String errorMessage) {}

  /** GetModelMetadataResponse. */
  @JsonNaming(SnakeCaseStrategy.class)
  record ModelMetadata(ModelSpec modelSpec, Metadata metadata) {}

  @JsonNaming(SnakeCaseStrategy.class)
  record ModelSpec(String name, String signatureName, String version) {}

  /** The metadata map: the signature defs, and the model card where the model ships one. */
  @JsonNaming(SnakeCaseStrategy.class)
  record Metadata(
      SignatureDefMap signatureDef,
      @JsonInclude(Include.NON_EMPTY) Map<String, Object> modelCard) {}

  /** SignatureDefMap, whose one field is named like its key in the metadata map. */
  @JsonNaming(SnakeCaseStrategy.class)
  record SignatureDefMap(Map<String, SignatureDef> signatureDef) {}

  @JsonNaming(SnakeCaseStrategy.class)
  record SignatureDef(
      Map<String, TensorInfo> inputs, Map<String, TensorInfo> outputs, String methodName) {}

  @JsonNaming(SnakeCaseStrategy.class)
  record TensorInfo(String dtype, TensorShape tensorShape, String name) {}

  @JsonNaming(SnakeCaseStrategy.class)
  record TensorShape(List<Dim> dim, boolean unknownRank) {}

  /** One dimension; TensorFlow Serving prints int64 sizes as strings. */
  record Dim(String size, String name) {}
}
