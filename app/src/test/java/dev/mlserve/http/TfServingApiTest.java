package dev.mlserve.http;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TensorFlow Serving's REST API against the real demo model on a loopback server. */
class TfServingApiTest {
  private static final String PREDICT = "/v1/models/imdb-sentiment:predict";
  private static App app;

  @BeforeAll
  static void start() {
    app = TestSupport.startServer(Map.of());
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static double score(JsonNode prediction) {
    return prediction.isArray() ? prediction.get(0).asDouble() : prediction.asDouble();
  }

  @Test
  void predictsInTheRowFormat() {
    Reply r =
        post(
            app,
            PREDICT,
            "{\"instances\": [\"A wonderful, moving film.\", \"Awful. A waste of time.\"]}");
    assertThat(r.status()).isEqualTo(200);
    JsonNode p = r.json().get("predictions");
    assertThat(p).hasSize(2);
    assertThat(p.get(0).isArray()).as("[-1, 1] output gives one list per row").isTrue();
    assertThat(score(p.get(0))).isGreaterThan(0.5);
    assertThat(score(p.get(1))).isLessThan(0.5);
    assertThat(r.header("X-Model-Version")).isEqualTo("1");
    // no X-Request-Id sent: the server names the request with a random (version 4) UUID
    java.util.UUID id = java.util.UUID.fromString(r.header("X-Request-Id"));
    assertThat(id.version()).isEqualTo(4);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.toString()).isEqualTo(r.header("X-Request-Id"));
    assertThat(r.header("Content-Type")).startsWith("application/json");
  }

  @Test
  void rowFormatAcceptsNestedRowsAndNamedInstances() {
    double flat =
        score(
            post(app, PREDICT, "{\"instances\": [\"great acting\"]}")
                .json()
                .get("predictions")
                .get(0));
    double nested =
        score(
            post(app, PREDICT, "{\"instances\": [[\"great acting\"]]}")
                .json()
                .get("predictions")
                .get(0));
    double named =
        score(
            post(app, PREDICT, "{\"instances\": [{\"text\": [\"great acting\"]}]}")
                .json()
                .get("predictions")
                .get(0));
    assertThat(nested).isEqualTo(flat);
    assertThat(named).isEqualTo(flat);
  }

  @Test
  void predictsInTheColumnarFormat() {
    Reply named =
        post(app, PREDICT, "{\"inputs\": {\"text\": [[\"great acting\"], [\"dull plot\"]]}}");
    assertThat(named.status()).isEqualTo(200);
    JsonNode out = named.json().get("outputs");
    assertThat(out).hasSize(2);
    Reply bare = post(app, PREDICT, "{\"inputs\": [\"great acting\", \"dull plot\"]}");
    assertThat(bare.json().get("outputs")).isEqualTo(out);
    double rows =
        score(
            post(app, PREDICT, "{\"instances\": [\"great acting\"]}")
                .json()
                .get("predictions")
                .get(0));
    assertThat(out.get(0).get(0).asDouble()).isCloseTo(rows, within(1e-6));
  }

  @Test
  void acceptsBinaryStringsAsBase64() {
    String b64 =
        Base64.getEncoder().encodeToString("great acting".getBytes(StandardCharsets.UTF_8));
    double viaB64 =
        score(
            post(app, PREDICT, "{\"instances\": [{\"b64\": \"" + b64 + "\"}]}")
                .json()
                .get("predictions")
                .get(0));
    double viaText =
        score(
            post(app, PREDICT, "{\"instances\": [\"great acting\"]}")
                .json()
                .get("predictions")
                .get(0));
    assertThat(viaB64).isEqualTo(viaText);
  }

  @Test
  void explicitVersionAndSignature() {
    Reply r =
        post(
            app,
            "/v1/models/imdb-sentiment/versions/1:predict",
            "{\"signature_name\": \"serving_default\", \"instances\": [\"fine\"]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("X-Model-Version")).isEqualTo("1");
  }

  @Test
  void reportsModelStatus() {
    Reply r = get(app, "/v1/models/imdb-sentiment");
    assertThat(r.status()).isEqualTo(200);
    JsonNode s = r.json().get("model_version_status").get(0);
    assertThat(s.get("version").asText()).isEqualTo("1");
    assertThat(s.get("state").asText()).isEqualTo("AVAILABLE");
    assertThat(s.get("status").get("error_code").asText()).isEqualTo("OK");
    assertThat(get(app, "/v1/models/imdb-sentiment/versions/1").status()).isEqualTo(200);
    assertThat(get(app, "/v1/models/imdb-sentiment/versions/2").status()).isEqualTo(404);
  }

  @Test
  void reportsSignatureMetadata() {
    Reply r = get(app, "/v1/models/imdb-sentiment/metadata");
    assertThat(r.status()).isEqualTo(200);
    JsonNode m = r.json();
    assertThat(m.at("/model_spec/name").asText()).isEqualTo("imdb-sentiment");
    assertThat(m.at("/model_spec/version").asText()).isEqualTo("1");
    JsonNode sig = m.at("/metadata/signature_def/signature_def/serving_default");
    assertThat(sig.at("/inputs/text/dtype").asText()).isEqualTo("DT_STRING");
    assertThat(sig.at("/inputs/text/tensor_shape/dim/0/size").asText()).isEqualTo("-1");
    assertThat(sig.at("/inputs/text/tensor_shape/dim/1/size").asText()).isEqualTo("1");
    assertThat(sig.at("/outputs/output_0/dtype").asText()).isEqualTo("DT_FLOAT");
    assertThat(sig.at("/method_name").asText()).isEqualTo("tensorflow/serving/predict");
    assertThat(get(app, "/v1/models/imdb-sentiment/versions/1/metadata").status()).isEqualTo(200);
  }

  @Test
  void readsChunkedAndFixedLengthBodiesOnOneKeepAliveConnection() throws Exception {
    // The body is read by its declared length, or to the last chunk when it has none; either way
    // the connection stays usable for the next request (a body read short or past its end would
    // desynchronise it). A trailing newline after the JSON object is part of the body.
    TestSupport.Golden great = TestSupport.golden().get("positive_short");
    byte[] json =
        ("{\"instances\": [" + TestSupport.quote(great.text()) + "]}")
            .getBytes(StandardCharsets.UTF_8);
    String head = "POST " + PREDICT + " HTTP/1.1\r\nHost: localhost\r\n";
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", app.port())) {
      socket.setSoTimeout(20_000);
      var out = socket.getOutputStream();
      // 1: chunked, the JSON split over two chunks
      int half = json.length / 2;
      out.write((head + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.write((Integer.toHexString(half) + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.write(json, 0, half);
      out.write(("\r\n" + Integer.toHexString(json.length - half) + "\r\n").getBytes());
      out.write(json, half, json.length - half);
      out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      // 2: Content-Length, with a trailing newline
      out.write(
          (head + "Content-Length: " + (json.length + 1) + "\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      out.write(json);
      out.write('\n');
      // 3: Content-Length, and the connection closes after it
      out.write(
          (head + "Connection: close\r\nContent-Length: " + json.length + "\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      out.write(json);
      out.flush();
      String answers = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("\"predictions\":\\[\\[([0-9.eE-]+)\\]\\]")
              .matcher(answers);
      int answered = 0;
      while (m.find()) {
        assertThat(Double.parseDouble(m.group(1)))
            .isCloseTo(great.score(), within(TestSupport.Golden.TOLERANCE));
        answered++;
      }
      assertThat(answered).as(answers).isEqualTo(3);
      assertThat(answers.split("HTTP/1.1 200 OK", -1)).hasSize(4);
    }
  }

  @Test
  void flagsLowConfidenceRows() {
    // golden scores: "" scores 0.4487 (inside the default band 0.4..0.6), "positive" 0.9066
    var golden = TestSupport.golden();
    Reply r =
        post(
            app,
            PREDICT,
            "{\"instances\": ["
                + TestSupport.quote(golden.get("empty").text())
                + ", "
                + TestSupport.quote(golden.get("positive").text())
                + "]}");
    assertThat(score(r.json().get("predictions").get(0)))
        .isCloseTo(golden.get("empty").score(), within(TestSupport.Golden.TOLERANCE));
    assertThat(score(r.json().get("predictions").get(1)))
        .isCloseTo(golden.get("positive").score(), within(TestSupport.Golden.TOLERANCE));
    assertThat(r.header("X-Low-Confidence-Rows")).isEqualTo("0");
  }

  @Test
  void homePageListsEndpointsAndModels() {
    Reply r = get(app, "/");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body())
        .contains("/v1/models/{model}[/versions/{v}|/labels/{l}]:predict")
        .contains("/v2/models/{model}[/versions/{v}]/infer")
        .contains("/metrics")
        .contains("imdb-sentiment")
        .contains("v1 AVAILABLE")
        .contains("serving_default");
  }

  @Test
  void exposesPrometheusMetrics() {
    post(app, PREDICT, "{\"instances\": [\"metrics please\"]}");
    Reply r = get(app, "/metrics");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body())
        .contains(
            "mlserve_request_latency_seconds_bucket{api=\"tfserving\",model=\"imdb-sentiment\"")
        .contains(
            "mlserve_predicted_rows_total{model=\"imdb-sentiment\",variant=\"\",version=\"1\"}")
        .contains(
            "mlserve_prediction_score_bucket{model=\"imdb-sentiment\",variant=\"\",version=\"1\",le=\"0.5\"}")
        .contains(
            "mlserve_model_load_seconds_count{model=\"imdb-sentiment\",outcome=\"ok\",version=\"1\"}")
        .contains("mlserve_batch_rows")
        .contains("jvm_memory_used_bytes")
        .contains("mlserve_ready 1.0");
  }
}
