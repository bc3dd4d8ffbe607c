package dev.mlserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.TestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The model Keras exported (TF 2.21) runs in TensorFlow Java (TF 2.18) and gives Python's own
 * scores: this guards the export/runtime version skew.
 */
class GoldenOutputsTest {
  private static final Path GOLDEN =
      Path.of("..", "training", "golden", "imdb-sentiment-1.json").toAbsolutePath().normalize();
  private static ModelVersion model;
  private static JsonNode golden;

  @BeforeAll
  static void load() throws Exception {
    golden = TestSupport.JSON.readTree(GOLDEN.toFile());
    model = ModelLoader.load(TestSupport.MODEL, 1, TestSupport.demoVersion());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void exposesTheExportedSignature() {
    SignatureSpec spec = model.signature("");
    assertThat(spec.key()).isEqualTo("serving_default");
    TensorSpec in = spec.inputs().get(golden.get("input").asText());
    assertThat(in.dtype()).isEqualTo(DType.STRING);
    assertThat(in.shape()).containsExactly(-1, 1);
    TensorSpec out = spec.outputs().get(golden.get("output").asText());
    assertThat(out.dtype()).isEqualTo(DType.FLOAT);
    assertThat(out.shape()).containsExactly(-1, 1);
    assertThat(spec.batchable()).isTrue();
  }

  @Test
  void scoresMatchPythonToTheGoldenTolerance() {
    double tolerance = golden.path("tolerance").asDouble(1e-5);
    JsonNode cases = golden.get("cases");
    assertThat(cases.size()).isGreaterThanOrEqualTo(24);
    byte[][] texts = new byte[cases.size()][];
    for (int i = 0; i < cases.size(); i++) {
      texts[i] = cases.get(i).get("text").asText().getBytes(StandardCharsets.UTF_8);
    }
    SignatureSpec spec = model.signature(golden.get("signature").asText());
    String input = golden.get("input").asText();
    // all at once (a batch) and one by one must both match
    Values batch =
        model
            .run(spec, Map.of(input, Values.strings(new long[] {texts.length, 1}, texts)))
            .get(golden.get("output").asText());
    for (int i = 0; i < cases.size(); i++) {
      double expected = cases.get(i).get("score").asDouble();
      String name = cases.get(i).path("name").asText("case " + i);
      assertThat(batch.number(i)).as(name + " (batched)").isCloseTo(expected, within(tolerance));
      Values alone =
          model
              .run(spec, Map.of(input, Values.strings(new long[] {1, 1}, new byte[][] {texts[i]})))
              .get(golden.get("output").asText());
      assertThat(alone.number(0)).as(name + " (alone)").isCloseTo(expected, within(tolerance));
    }
  }

  @Test
  void readsTheModelCard() {
    assertThat(model.card()).containsKey("metrics");
  }
}
