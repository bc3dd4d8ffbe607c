package dev.mlserve.store;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import dev.mlserve.s3.S3ProxyFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The real service (HTTP, TensorFlow, the demo model) reading its models from and writing its
 * capture to a real S3 API — S3Proxy in-process — as it would on ECS with MODEL_BASE_PATH and
 * CAPTURE_S3_URI pointing at buckets.
 */
class S3ServingEndToEndTest {
  private static final String PREDICT = "/v1/models/imdb-sentiment:predict";
  private static final String BUCKET = "ml-serve-test";

  @TempDir Path cache;
  @TempDir Path work;
  private S3ProxyFixture s3;
  private App app;

  @BeforeEach
  void publishVersionOne() {
    s3 = S3ProxyFixture.start();
    s3.createBucket(BUCKET);
    publish(1);
  }

  @AfterEach
  void stop() {
    if (app != null) {
      app.close();
    }
    s3.close();
  }

  private void startApp(Map<String, String> env) {
    Map<String, String> all = new HashMap<>();
    all.put("MODEL_BASE_PATH", "s3://" + BUCKET + "/models");
    all.put("MODEL_CACHE_DIR", cache.toString());
    all.putAll(env);
    app = App.create(TestSupport.config(all), s3.client());
    assertThat(app.start()).as("version 1 loads from S3").isTrue();
  }

  /**
   * Uploads the demo model as version {@code v}, saved_model.pb last, as scripts/upload-model.sh
   * does.
   */
  private void publish(long v) {
    s3.uploadTree(BUCKET, "models/imdb-sentiment/" + v, TestSupport.demoVersion());
  }

  @Test
  void aVersionPublishedWhileServingIsPolledInWithoutAFailedRequest() throws Exception {
    startApp(Map.of("MODEL_POLL_SECONDS", "1"));
    TestSupport.SteadyTraffic traffic =
        new TestSupport.SteadyTraffic(app, PREDICT, "{\"instances\": [\"steady traffic\"]}");
    Thread.sleep(300);
    publish(2);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!state(1).startsWith("END") && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    Thread.sleep(300);
    traffic.close();
    List<Integer> statuses = traffic.statuses;
    List<String> versions = traffic.versions;

    assertThat(statuses).isNotEmpty().allSatisfy(s -> assertThat(s).isEqualTo(200));
    assertThat(versions).contains("1", "2");
    assertThat(versions.get(versions.size() - 1)).isEqualTo("2");
    assertThat(state(2)).startsWith("AVAILABLE");
    assertThat(state(1)).startsWith("END");
    assertThat(cache.resolve("imdb-sentiment/2/saved_model.pb")).isRegularFile();
    assertThat(cache.resolve("imdb-sentiment/1"))
        .as("the retired version's copy is evicted")
        .doesNotExist();
  }

  @Test
  void aCorruptVersionIsRefusedAndTheServedOneKeepsServing() {
    startApp(Map.of());
    s3.put(BUCKET, "models/imdb-sentiment/2/variables/variables.index", new byte[] {0, 1, 2});
    s3.put(
        BUCKET,
        "models/imdb-sentiment/2/saved_model.pb",
        "not a protobuf".getBytes(StandardCharsets.UTF_8));

    app.refresh();

    assertThat(state(2)).startsWith("END").contains("could not load");
    assertThat(state(1)).startsWith("AVAILABLE");
    Reply r = post(app, PREDICT, "{\"instances\": [\"still fine\"]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("X-Model-Version")).isEqualTo("1");
    assertThat(get(app, "/metrics").body())
        .contains(
            "mlserve_model_load_seconds_count{model=\"imdb-sentiment\",outcome=\"failed\",version=\"2\"}");
    assertThat(get(app, "/v2/health/ready").status()).isEqualTo(200);
    assertThat(cache.resolve("imdb-sentiment/2")).as("the refused copy is not kept").doesNotExist();
  }

  @Test
  void aTarGzVersionIsDownloadedExtractedAndServed() throws Exception {
    startApp(Map.of());
    Path archive = work.resolve("3.tar.gz");
    Process tar =
        new ProcessBuilder(
                "tar", "-czf", archive.toString(), "-C", TestSupport.demoVersion().toString(), ".")
            .redirectErrorStream(true)
            .start();
    assertThat(tar.waitFor()).isZero();
    s3.put(BUCKET, "models/imdb-sentiment/3.tar.gz", Files.readAllBytes(archive));

    assertThat(app.refresh()).isTrue();

    Reply r = post(app, PREDICT, "{\"instances\": [\"A wonderful, moving film.\"]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("X-Model-Version")).isEqualTo("3");
    assertThat(state(3)).startsWith("AVAILABLE");
  }

  @Test
  void anS3OutageAtReloadIsLoggedCountedAndServingGoesOn() {
    startApp(Map.of());
    s3.stopServer();

    long start = System.nanoTime();
    assertThat(app.refresh()).isFalse();
    double seconds = (System.nanoTime() - start) / 1e9;

    assertThat(seconds).as("a poll against a dead store fails fast").isLessThan(15);
    Reply r = post(app, PREDICT, "{\"instances\": [\"S3 is down\"]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("X-Model-Version")).isEqualTo("1");
    assertThat(get(app, "/v2/health/ready").status()).isEqualTo(200);
    assertThat(get(app, "/metrics").body())
        .containsPattern("mlserve_model_store_errors_total\\{source=\"s3\"\\} [1-9]");
  }

  @Test
  void capturedPredictionsLandInS3PartitionedAndShutdownFlushesThem() throws Exception {
    startApp(
        Map.of(
            "CAPTURE_S3_URI", "s3://" + BUCKET + "/capture",
            "CAPTURE_SAMPLE_PERCENT", "100",
            "CAPTURE_FLUSH_SECONDS", "3600",
            // Every score falls in this band, so every row is flagged low-confidence.
            "LOW_CONFIDENCE_BAND", "0,1"));
    Map<String, String> sent = new HashMap<>();
    for (int i = 0; i < 7; i++) {
      Reply r =
          post(
              app,
              PREDICT,
              "{\"instances\": [\"review " + i + " is great\", \"review " + i + " is dull\"]}");
      assertThat(r.status()).isEqualTo(200);
      sent.put(r.header("X-Request-Id"), "review " + i + " is great");
    }
    assertThat(s3.list(BUCKET, "capture/")).as("buffered until the interval or shutdown").isEmpty();

    app.close();

    List<JsonNode> records = new ArrayList<>();
    DateTimeFormatter date = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
    DateTimeFormatter hour = DateTimeFormatter.ofPattern("HH").withZone(ZoneOffset.UTC);
    for (S3Object o : s3.list(BUCKET, "capture/")) {
      for (String line : new String(s3.get(BUCKET, o.key()), StandardCharsets.UTF_8).split("\n")) {
        JsonNode rec = TestSupport.JSON.readTree(line);
        Instant t = Instant.parse(rec.get("time").asText());
        assertThat(o.key())
            .matches(
                "capture/model=imdb-sentiment/date="
                    + date.format(t)
                    + "/hour="
                    + hour.format(t)
                    + "/[0-9a-f-]{36}\\.jsonl");
        records.add(rec);
      }
    }
    assertThat(records).hasSize(7);
    for (JsonNode rec : records) {
      assertThat(sent).containsKey(rec.get("request_id").asText());
      assertThat(rec.get("model").asText()).isEqualTo("imdb-sentiment");
      assertThat(rec.get("version").asLong()).isEqualTo(1);
      assertThat(rec.get("signature").asText()).isEqualTo("serving_default");
      assertThat(rec.at("/inputs/text/data/0").asText())
          .isEqualTo(sent.get(rec.get("request_id").asText()));
      assertThat(rec.at("/inputs/text/data")).hasSize(2);
      assertThat(rec.at("/outputs/output_0/data")).hasSize(2);
      assertThat(rec.at("/outputs/output_0/data/0").asDouble()).isBetween(0.0, 1.0);
      assertThat(rec.get("latency_ms").asDouble()).isPositive();
      assertThat(rec.get("low_confidence").asBoolean()).isTrue();
      assertThat(rec.get("low_confidence_rows")).extracting(JsonNode::asInt).containsExactly(0, 1);
    }
  }

  private String state(long version) {
    return TestSupport.versionState(app, "imdb-sentiment", version);
  }
}
