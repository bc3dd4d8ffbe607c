package dev.mlserve.http;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Open Inference Protocol (V2) against the real demo model. */
class V2ApiTest {
  private static App app;

  @BeforeAll
  static void start() {
    app = TestSupport.startServer(Map.of());
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void infers() {
    Reply r =
        post(
            app,
            "/v2/models/imdb-sentiment/infer",
            """
            {"id": "req-7",
             "inputs": [{"name": "text", "shape": [2, 1], "datatype": "BYTES",
                         "data": ["A wonderful, moving film.", "Awful. A waste of time."]}]}
            """);
    assertThat(r.status()).isEqualTo(200);
    JsonNode body = r.json();
    assertThat(body.get("model_name").asText()).isEqualTo("imdb-sentiment");
    assertThat(body.get("model_version").asText()).isEqualTo("1");
    assertThat(body.get("id").asText()).isEqualTo("req-7");
    JsonNode out = body.get("outputs").get(0);
    assertThat(out.get("name").asText()).isEqualTo("output_0");
    assertThat(out.get("datatype").asText()).isEqualTo("FP32");
    assertThat(out.get("shape")).hasSize(2);
    assertThat(out.get("shape").get(0).asInt()).isEqualTo(2);
    assertThat(out.get("data").get(0).asDouble()).isGreaterThan(0.5);
    assertThat(out.get("data").get(1).asDouble()).isLessThan(0.5);
  }

  @Test
  void givesTheSameScoresAsTheTensorFlowServingApi() {
    double v2 =
        post(
                app,
                "/v2/models/imdb-sentiment/versions/1/infer",
                "{\"inputs\": [{\"name\": \"text\", \"shape\": [1, 1], \"datatype\": \"BYTES\", \"data\": [[\"so-so\"]]}]}")
            .json()
            .at("/outputs/0/data/0")
            .asDouble();
    double tf =
        post(app, "/v1/models/imdb-sentiment:predict", "{\"instances\": [\"so-so\"]}")
            .json()
            .at("/predictions/0/0")
            .asDouble();
    assertThat(v2).isCloseTo(tf, within(1e-7));
  }

  @Test
  void describesTheModel() {
    Reply r = get(app, "/v2/models/imdb-sentiment");
    assertThat(r.status()).isEqualTo(200);
    JsonNode m = r.json();
    assertThat(m.get("name").asText()).isEqualTo("imdb-sentiment");
    assertThat(m.get("versions").get(0).asText()).isEqualTo("1");
    assertThat(m.get("platform").asText()).isEqualTo("tensorflow_savedmodel");
    assertThat(m.at("/inputs/0/name").asText()).isEqualTo("text");
    assertThat(m.at("/inputs/0/datatype").asText()).isEqualTo("BYTES");
    assertThat(m.at("/inputs/0/shape/0").asInt()).isEqualTo(-1);
    assertThat(m.at("/outputs/0/datatype").asText()).isEqualTo("FP32");
    assertThat(get(app, "/v2/models/imdb-sentiment/versions/1").status()).isEqualTo(200);
  }

  @Test
  void healthAndReadiness() {
    assertThat(get(app, "/v2/health/live").status()).isEqualTo(200);
    Reply ready = get(app, "/v2/health/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().get("ready").asBoolean()).isTrue();
    assertThat(get(app, "/v2/models/imdb-sentiment/ready").status()).isEqualTo(200);
    assertThat(get(app, "/v2/models/imdb-sentiment/versions/1/ready").status()).isEqualTo(200);
    assertThat(get(app, "/v2/models/nope/ready").status()).isEqualTo(404);
    assertThat(get(app, "/v2").json().get("name").asText()).isEqualTo("ml-serve-ecs");
  }
}
