package dev.mlserve.http;

import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Signatures unlike the demo model's, through both APIs, against the test SavedModel calc
 * (training/fixtures/make_test_models.py), whose answers are exact arithmetic: serving_default
 * total = sum(x) * k with x FP32 [-1, 3] and k INT64 [-1]; column doubles [-1, 1]; flat doubles
 * [-1]; fixed multiplies a [3] vector (no batch dimension) by 10.
 */
class NonDemoSignaturesTest {
  private static final String PREDICT = "/v1/models/calc:predict";
  private static final String INFER = "/v2/models/calc/infer";
  private static App app;

  @BeforeAll
  static void start() {
    app = TestSupport.startServer(TestSupport.fixtureModels(), Map.of());
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static Reply ok(Reply r) {
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r;
  }

  @Test
  void numericMultiInputThroughTheRowFormat() {
    Reply r =
        ok(
            post(
                app,
                PREDICT,
                """
                {"instances": [{"x": [1, 2, 3], "k": 2}, {"x": [0.5, 0.5, 0], "k": 3}]}
                """));
    assertThat(r.json().get("predictions").toString()).isEqualTo("[12.0,3.0]");
  }

  @Test
  void numericMultiInputThroughTheColumnarFormat() {
    Reply r =
        ok(post(app, PREDICT, "{\"inputs\": {\"x\": [[1, 2, 3], [0.5, 0.5, 0]], \"k\": [2, 3]}}"));
    assertThat(r.json().get("outputs").toString()).isEqualTo("[12.0,3.0]");
  }

  @Test
  void numericMultiInputThroughV2() {
    Reply r =
        ok(
            post(
                app,
                INFER,
                """
                {"inputs": [
                  {"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 0.5, 0.5, 0]},
                  {"name": "k", "shape": [2], "datatype": "INT64", "data": [2, 3]}]}
                """));
    assertThat(r.json().at("/outputs/0/name").asText()).isEqualTo("total");
    assertThat(r.json().at("/outputs/0/datatype").asText()).isEqualTo("FP32");
    assertThat(r.json().at("/outputs/0/shape").toString()).isEqualTo("[2]");
    assertThat(r.json().at("/outputs/0/data").toString()).isEqualTo("[12.0,3.0]");
  }

  @Test
  void aMissingOrMistypedInputIsRefusedByTheSignatureForBothApis() {
    Reply missing = post(app, PREDICT, "{\"inputs\": {\"x\": [[1, 2, 3]]}}");
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().get("error").asText()).contains("missing input 'k'");
    Reply fractional = post(app, PREDICT, "{\"inputs\": {\"x\": [[1, 2, 3]], \"k\": [1.5]}}");
    assertThat(fractional.status()).isEqualTo(400);
    assertThat(fractional.json().get("error").asText())
        .contains("input 'k' must hold whole numbers (DT_INT64");
    Reply v2 =
        post(
            app,
            INFER,
            """
            {"inputs": [
              {"name": "x", "shape": [1, 3], "datatype": "BYTES", "data": ["a", "b", "c"]},
              {"name": "k", "shape": [1], "datatype": "INT64", "data": [2]}]}
            """);
    assertThat(v2.status()).isEqualTo(400);
    assertThat(v2.json().get("error").asText())
        .contains("input 'x' must hold numbers (DT_FLOAT, V2 FP32) but the request sent strings");
  }

  @Test
  void aColumnInputTakesRowsWithOrWithoutTheTrailingOne() {
    String expected = "[[3.0],[4.0]]";
    assertThat(
            ok(post(app, PREDICT, "{\"signature_name\": \"column\", \"instances\": [1.5, 2]}"))
                .json()
                .get("predictions")
                .toString())
        .isEqualTo(expected);
    assertThat(
            ok(post(app, PREDICT, "{\"signature_name\": \"column\", \"instances\": [[1.5], [2]]}"))
                .json()
                .get("predictions")
                .toString())
        .isEqualTo(expected);
    Reply v2 =
        ok(
            post(
                app,
                INFER,
                """
                {"parameters": {"signature_name": "column"},
                 "inputs": [{"name": "v", "shape": [2, 1], "datatype": "FP32", "data": [1.5, 2]}]}
                """));
    assertThat(v2.json().at("/outputs/0/shape").toString()).isEqualTo("[2,1]");
    assertThat(v2.json().at("/outputs/0/data").toString()).isEqualTo("[3.0,4.0]");
  }

  @Test
  void aFlatInputTakesOneNumberPerRowOnly() {
    assertThat(
            ok(post(app, PREDICT, "{\"signature_name\": \"flat\", \"instances\": [1.5, 2]}"))
                .json()
                .get("predictions")
                .toString())
        .isEqualTo("[3.0,4.0]");
    Reply nested =
        post(app, PREDICT, "{\"signature_name\": \"flat\", \"instances\": [[1.5], [2]]}");
    assertThat(nested.status()).isEqualTo(400);
    assertThat(nested.json().get("error").asText())
        .contains("input 'v' must have shape [?] but got [2, 1]");
    Reply v2 =
        ok(
            post(
                app,
                INFER,
                """
                {"parameters": {"signature_name": "flat"},
                 "inputs": [{"name": "v", "shape": [2], "datatype": "FP32", "data": [1.5, 2]}]}
                """));
    assertThat(v2.json().at("/outputs/0/data").toString()).isEqualTo("[3.0,4.0]");
  }

  @Test
  void aSignatureWithoutABatchDimensionTakesExactlyItsShape() {
    assertThat(
            ok(post(app, PREDICT, "{\"signature_name\": \"fixed\", \"instances\": [1, 2, 3]}"))
                .json()
                .get("predictions")
                .toString())
        .isEqualTo("[10.0,20.0,30.0]");
    Reply v2 =
        ok(
            post(
                app,
                INFER,
                """
                {"parameters": {"signature_name": "fixed"},
                 "inputs": [{"name": "v", "shape": [3], "datatype": "FP32", "data": [1, 2, 3]}]}
                """));
    assertThat(v2.json().at("/outputs/0/name").asText()).isEqualTo("scaled");
    assertThat(v2.json().at("/outputs/0/data").toString()).isEqualTo("[10.0,20.0,30.0]");
    Reply four = post(app, PREDICT, "{\"signature_name\": \"fixed\", \"instances\": [1, 2, 3, 4]}");
    assertThat(four.status()).isEqualTo(400);
    assertThat(four.json().get("error").asText()).contains("must have shape [3] but got [4]");
  }
}
