package dev.mlserve.warmup;

import static dev.mlserve.TestSupport.MODEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The AOT training run against the real service and the bundled demo model. */
class AotTrainingCommandTest {
  // training/golden/imdb-sentiment-1.json, case positive_short
  private static final String GOLDEN_TEXT = "great movie";
  private static final double GOLDEN_SCORE = 0.6193802356719971;

  private static App app;
  private static URI base;

  @BeforeAll
  static void start() {
    app = TestSupport.startServer(Map.of());
    base = TestSupport.uri(app, "/");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void bodiesInAllThreeFormatsGetTheGoldenScore() {
    List<TrainingRequests.Input> inputs =
        TrainingRequests.inputsFromV2Metadata(TestSupport.get(app, "/v2/models/" + MODEL).json());
    TrainingRequests requests = new TrainingRequests(MODEL, inputs, List.of(GOLDEN_TEXT));
    for (TrainingRequests.Format format : TrainingRequests.Format.values()) {
      Reply reply =
          TestSupport.post(app, requests.path(format), requests.body(format, 3, new Random(1)));
      assertThat(reply.status()).as(format + ": " + reply.body()).isEqualTo(200);
      JsonNode scores =
          format == TrainingRequests.Format.V2
              ? reply.json().path("outputs").get(0).path("data")
              : reply
                  .json()
                  .path(format == TrainingRequests.Format.TF_ROW ? "predictions" : "outputs");
      assertThat(scores).as(format.toString()).hasSize(3);
      for (JsonNode s : scores) {
        double score = s.isArray() ? s.get(0).asDouble() : s.asDouble();
        assertThat(score).as(format.toString()).isCloseTo(GOLDEN_SCORE, within(1e-5));
      }
    }
  }

  @Test
  void sendsTheMixThroughBothApisWithOnlyExpectedAnswers() throws Exception {
    AotTrainingCommand.Result result =
        AotTrainingCommand.run(
            base,
            List.of(MODEL),
            List.of("a fine film", GOLDEN_TEXT),
            256,
            Duration.ofSeconds(3),
            4);

    assertThat(result.unexpected()).isEmpty();
    assertThat(result.ok()).isTrue();
    assertThat(result.requests()).isGreaterThan(20);
    assertThat(result.rows()).isGreaterThan(result.requests() / 2);
    String metrics = TestSupport.get(app, "/metrics").body();
    for (String api : List.of("tfserving", "v2")) {
      assertThat(
              metrics
                  .lines()
                  .filter(l -> l.startsWith("mlserve_request_latency_seconds_count{"))
                  .filter(l -> l.contains("api=\"" + api + "\"") && l.contains("status=\"200\""))
                  .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                  .sum())
          .as("successful %s requests", api)
          .isGreaterThan(0);
    }
  }

  @Test
  void failsWhenAnswersAreNotTheExpectedOnes() throws Exception {
    // Multi-row requests over the server's MAX_ROWS (1024) get 400 where the mix expects 200.
    AotTrainingCommand.Result result =
        AotTrainingCommand.run(base, List.of(MODEL), List.of("x"), 2000, Duration.ofSeconds(2), 4);

    assertThat(result.ok()).isFalse();
    assertThat(result.unexpected()).containsKey("predict answered 400");
  }

  @Test
  void recordAndExitReturnsZeroAfterServingTheDemoModel() {
    Map<String, String> env =
        Map.of(
            "MODEL_BASE_PATH",
            TestSupport.demoModels().toString(),
            "SHUTDOWN_TIMEOUT_SECONDS",
            "5");
    int code =
        new CommandLine(new AotTrainingCommand(env)).execute("--seconds", "2", "--clients", "4");
    assertThat(code).isZero();
  }

  @Test
  void recordAndExitReturnsOneWhenNoModelLoads(@TempDir Path empty) throws Exception {
    Files.createDirectories(empty.resolve("models"));
    Map<String, String> env = Map.of("MODEL_BASE_PATH", empty.resolve("models").toString());
    int code = new CommandLine(new AotTrainingCommand(env)).execute("--seconds", "1");
    assertThat(code).isEqualTo(1);
  }

  @Test
  void recordAndExitRejectsABadConfigurationWithTwo() {
    int code =
        new CommandLine(new AotTrainingCommand(Map.of("MAX_ROWS", "many")))
            .execute("--seconds", "1");
    assertThat(code).isEqualTo(2);
  }
}
