package dev.mlserve.http;

import static dev.mlserve.TestSupport.metric;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each domain error type, produced for real, and what the client gets for it: the one table in
 * HttpApi. After routing, the failure also counts in mlserve_prediction_errors by kind and its
 * latency carries the version that was chosen.
 */
class StatusTableTest {
  private static final String CALC = "/v1/models/calc:predict";

  private static void expect(Reply r, int status, String error) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.header("Content-Type")).startsWith("application/json");
    assertThat(r.json().get("error").asText()).contains(error);
  }

  private static double errors(App app, String kind) {
    return metric(
        app,
        "mlserve_prediction_errors_total",
        "model=\"calc\"",
        "version=\"1\"",
        "kind=\"" + kind + "\"");
  }

  private static double routedLatency(App app, int status) {
    return metric(
        app,
        "mlserve_request_latency_seconds_count",
        "model=\"calc\"",
        "version=\"1\"",
        "status=\"" + status + "\"");
  }

  @Test
  void badInputIs400() {
    try (App app = TestSupport.startServer(TestSupport.fixtureModels(), Map.of())) {
      expect(post(app, CALC, "{\"instances\": ["), 400, "malformed JSON");
      expect(
          post(app, CALC, "{\"inputs\": {\"x\": [[1, 2]], \"k\": [1]}}"),
          400,
          "input 'x' must have shape [?, 3] but got [1, 2]");
      assertThat(errors(app, "bad_input")).isEqualTo(1);
      assertThat(routedLatency(app, 400)).isEqualTo(1);
    }
  }

  @Test
  void notFoundIs404() {
    try (App app = TestSupport.startServer(TestSupport.fixtureModels(), Map.of())) {
      expect(post(app, "/v1/models/nope:predict", "{\"instances\": [1]}"), 404, "not served here");
      expect(
          post(app, "/v1/models/calc/versions/7:predict", "{\"instances\": [1]}"),
          404,
          "has no version 7");
    }
  }

  @Test
  void aModelThatRejectsItsInputIs400() {
    try (App app = TestSupport.startServer(TestSupport.fixtureModels(), Map.of())) {
      expect(
          post(app, CALC, "{\"inputs\": {\"x\": [[1, -2, 3]], \"k\": [1]}}"),
          400,
          "the model rejected the input");
      assertThat(errors(app, "model_rejected")).isEqualTo(1);
      assertThat(routedLatency(app, 400)).isEqualTo(1);
    }
  }

  @Test
  void aModelThatFailsIs500WithoutItsInternals() {
    try (App app = TestSupport.startServer(TestSupport.fixtureModels(), Map.of())) {
      Reply r = post(app, CALC, "{\"inputs\": {\"x\": [[1, 2, 3]], \"k\": [999]}}");
      expect(r, 500, "internal error (request id " + r.header("X-Request-Id") + ")");
      assertThat(r.body()).doesNotContain("nonexistent");
      assertThat(errors(app, "internal")).isEqualTo(1);
      assertThat(routedLatency(app, 500)).isEqualTo(1);
      assertThat(post(app, CALC, "{\"inputs\": {\"x\": [[1, 2, 3]], \"k\": [2]}}").status())
          .as("the model keeps serving")
          .isEqualTo(200);
    }
  }

  @Test
  void aFullQueueIs503Overloaded() throws Exception {
    try (App app =
        TestSupport.startServer(
            TestSupport.fixtureModels(),
            Map.of("BATCH_MAX_QUEUE_ROWS", "1", "BATCH_WORKERS", "1", "BATCH_MAX_SIZE", "1"))) {
      ExecutorService pool = Executors.newFixedThreadPool(24);
      List<Future<Reply>> replies = new ArrayList<>();
      for (int i = 0; i < 480; i++) {
        replies.add(
            pool.submit(() -> post(app, CALC, "{\"inputs\": {\"x\": [[1, 2, 3]], \"k\": [1]}}")));
      }
      List<Reply> refused = new ArrayList<>();
      for (Future<Reply> f : replies) {
        Reply r = f.get();
        assertThat(r.status()).isIn(200, 503);
        if (r.status() == 503) {
          refused.add(r);
        } else {
          assertThat(r.json().get("outputs").toString()).isEqualTo("[6.0]");
        }
      }
      pool.shutdown();
      assertThat(refused).isNotEmpty();
      expect(refused.get(0), 503, "model 'calc' is overloaded: 1 rows already queued; retry later");
      assertThat(errors(app, "overloaded")).isEqualTo(refused.size());
      assertThat(routedLatency(app, 503)).isEqualTo(refused.size());
    }
  }

  @Test
  void aModelWithNoLoadableVersionIs503Unavailable(@TempDir Path tmp) throws Exception {
    Path broken = tmp.resolve("broken").resolve("1");
    Files.createDirectories(broken);
    Files.writeString(broken.resolve("saved_model.pb"), "not a SavedModel");
    try (App app = App.create(TestSupport.config(Map.of("MODEL_BASE_PATH", tmp.toString())))) {
      assertThat(app.start()).as("nothing loadable").isFalse();
      expect(
          post(app, "/v1/models/broken:predict", "{\"instances\": [1]}"),
          503,
          "model 'broken' has no version loaded yet");
    }
  }
}
