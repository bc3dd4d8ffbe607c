package dev.mlserve.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.s3.S3ProxyFixture;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** {@link S3CaptureWriter} writing to a real S3 API (S3Proxy in-process). */
class S3CaptureWriterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger BUCKETS = new AtomicInteger();
  private static S3ProxyFixture s3;

  private final ServingMetrics metrics = new ServingMetrics();
  private String bucket;

  @BeforeAll
  static void startS3() {
    s3 = S3ProxyFixture.start();
  }

  @AfterAll
  static void stopS3() {
    s3.close();
  }

  @BeforeEach
  void freshBucket() {
    bucket = "capture-" + BUCKETS.incrementAndGet();
    s3.createBucket(bucket);
  }

  @Test
  void writesJsonLinesPartitionedByModelDateAndHourOnClose() throws IOException {
    S3CaptureWriter writer = writer(s3.client(), "data/capture", 100, 1000, Duration.ofHours(1));
    writer.offer(record("r1", "2026-01-31T07:59:59.250Z", "imdb", new int[] {1}));
    writer.offer(record("r2", "2026-01-31T08:00:01Z", "imdb", new int[0]));
    writer.offer(record("r3", "2026-01-31T07:10:00Z", "other", null));
    assertThat(objects("data/capture/"))
        .as("nothing written before the interval or close")
        .isEmpty();

    writer.close();

    List<S3Object> files = objects("data/capture/");
    assertThat(files)
        .extracting(o -> o.key().replaceAll("/[0-9a-f-]{36}\\.jsonl$", "/<uuid>.jsonl"))
        .containsExactlyInAnyOrder(
            "data/capture/model=imdb/date=2026-01-31/hour=07/<uuid>.jsonl",
            "data/capture/model=imdb/date=2026-01-31/hour=08/<uuid>.jsonl",
            "data/capture/model=other/date=2026-01-31/hour=07/<uuid>.jsonl");
    JsonNode r1 = lines(key(files, "model=imdb/date=2026-01-31/hour=07/")).get(0);
    assertThat(r1.fieldNames())
        .toIterable()
        .containsExactly(
            "request_id",
            "time",
            "model",
            "version",
            "variant",
            "signature",
            "inputs",
            "outputs",
            "latency_ms",
            "low_confidence",
            "low_confidence_rows");
    assertThat(r1)
        .isEqualTo(
            JSON.readTree(
                "{\"request_id\":\"r1\",\"time\":\"2026-01-31T07:59:59.250Z\",\"model\":\"imdb\","
                    + "\"version\":3,\"variant\":\"b\",\"signature\":\"serving_default\","
                    + "\"inputs\":{\"text\":{\"shape\":[2,1],\"data\":[\"great film\",\"meh\"]}},"
                    + "\"outputs\":{\"output_0\":{\"shape\":[2,1],\"data\":[0.93,0.51]}},"
                    + "\"latency_ms\":4.321,\"low_confidence\":true,\"low_confidence_rows\":[1]}"));
    JsonNode r3 = lines(key(files, "model=other/")).get(0);
    assertThat(r3.get("low_confidence").asBoolean()).isFalse();
    assertThat(r3.get("low_confidence_rows")).isEmpty();
    assertThat(counter("mlserve_capture_files", "imdb")).isEqualTo(2);
    assertThat(counter("mlserve_capture_written_records", "imdb")).isEqualTo(2);
    assertThat(counter("mlserve_capture_records", "other")).isEqualTo(1);
  }

  @Test
  void writesAFullFileWithoutWaitingForTheInterval() throws Exception {
    S3CaptureWriter writer = writer(s3.client(), "cap", 100, 5, Duration.ofHours(1));
    Instant now = Instant.parse("2026-02-01T12:00:00Z");
    for (int i = 0; i < 12; i++) {
      writer.offer(record("r" + i, now.plusMillis(i).toString(), "imdb", new int[0]));
    }

    List<S3Object> files = waitForObjects("cap/", 2, Duration.ofSeconds(10));
    assertThat(files).hasSize(2);
    for (S3Object f : files) {
      assertThat(lines(f.key())).hasSize(5);
    }

    writer.close();
    List<S3Object> all = objects("cap/");
    assertThat(all).hasSize(3);
    assertThat(all.stream().mapToInt(o -> lines(o.key()).size()).sum()).isEqualTo(12);
  }

  @Test
  void flushesEveryInterval() throws Exception {
    S3CaptureWriter writer = writer(s3.client(), "", 100, 1000, Duration.ofSeconds(1));
    writer.offer(record("r1", Instant.now().toString(), "imdb", new int[0]));

    List<S3Object> files = waitForObjects("model=imdb/", 1, Duration.ofSeconds(10));

    assertThat(files).hasSize(1);
    assertThat(lines(files.get(0).key()).get(0).get("request_id").asText()).isEqualTo("r1");
    writer.close();
  }

  @Test
  void dropsAndCountsRecordsBeyondTheBufferWithoutBlocking() {
    S3CaptureWriter writer = writer(s3.client(), "cap", 3, 1000, Duration.ofHours(1));
    for (int i = 0; i < 10; i++) {
      writer.offer(record("r" + i, "2026-02-01T12:00:00Z", "imdb", new int[0]));
    }

    assertThat(counter("mlserve_capture_dropped", "imdb")).isEqualTo(7);
    assertThat(counter("mlserve_capture_records", "imdb")).isEqualTo(3);
    writer.close();
    assertThat(objects("cap/")).hasSize(1);
    assertThat(lines(objects("cap/").get(0).key()))
        .extracting(n -> n.get("request_id").asText())
        .containsExactly("r0", "r1", "r2");
    assertThat(metrics.registry().find("mlserve_capture_buffered").gauge().value()).isZero();
  }

  @Test
  void whileS3IsUnreachableOffersReturnAtOnceAndFailuresAreCounted() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    S3Client dead = s3.client(URI.create("http://127.0.0.1:" + closedPort));
    S3CaptureWriter writer = writer(dead, "cap", 10_000, 1000, Duration.ofHours(1));

    long start = System.nanoTime();
    for (int i = 0; i < 250; i++) {
      writer.offer(record("r" + i, "2026-02-01T12:00:00Z", "imdb", new int[0]));
    }
    double offerMillis = (System.nanoTime() - start) / 1e6;
    long closeStart = System.nanoTime();
    writer.close();

    assertThat(offerMillis).as("250 offers while S3 is down").isLessThan(500);
    assertThat((System.nanoTime() - closeStart) / 1e9)
        .isLessThanOrEqualTo(S3CaptureWriter.CLOSE_TIMEOUT.toSeconds() + 1.0);
    assertThat(counter("mlserve_capture_failed_records", "imdb")).isEqualTo(250);
    assertThat(counter("mlserve_capture_files", "imdb")).isZero();
    assertThat(metrics.registry().find("mlserve_capture_buffered").gauge().value()).isZero();
  }

  @Test
  void recordsOfferedAfterCloseAreDroppedNotLost() {
    S3CaptureWriter writer = writer(s3.client(), "cap", 100, 1000, Duration.ofHours(1));
    writer.close();
    writer.offer(record("late", "2026-02-01T12:00:00Z", "imdb", new int[0]));
    assertThat(counter("mlserve_capture_dropped", "imdb")).isEqualTo(1);
  }

  // --- helpers

  private S3CaptureWriter writer(
      S3Client client, String prefix, int buffer, int perFile, Duration every) {
    ServerConfig.Capture settings =
        new ServerConfig.Capture(
            Optional.of("s3://" + bucket + "/" + prefix), 100, buffer, perFile, every);
    return new S3CaptureWriter(client, bucket, prefix, settings, metrics);
  }

  static CaptureRecord record(String id, String time, String model, int[] lowRows) {
    return new CaptureRecord(
        id,
        Instant.parse(time),
        model,
        3,
        "b",
        "serving_default",
        Map.of("text", Map.of("shape", new long[] {2, 1}, "data", List.of("great film", "meh"))),
        Map.of("output_0", Map.of("shape", new long[] {2, 1}, "data", List.of(0.93, 0.51))),
        4.3214,
        lowRows);
  }

  private double counter(String name, String model) {
    Counter c = metrics.registry().find(name).tag("model", model).counter();
    return c == null ? 0 : c.count();
  }

  /**
   * The capture files; S3Proxy lists an object's temporary "<key>-<uuid>" while a PUT is under way.
   */
  private List<S3Object> objects(String prefix) {
    return s3.list(bucket, prefix).stream().filter(o -> o.key().endsWith(".jsonl")).toList();
  }

  private List<S3Object> waitForObjects(String prefix, int count, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<S3Object> found = objects(prefix);
    while (found.size() < count && System.nanoTime() < deadline) {
      Thread.sleep(50);
      found = objects(prefix);
    }
    return found;
  }

  private static String key(List<S3Object> files, String part) {
    return files.stream()
        .map(S3Object::key)
        .filter(k -> k.contains(part))
        .findFirst()
        .orElseThrow();
  }

  private List<JsonNode> lines(String key) {
    String text = new String(s3.get(bucket, key), StandardCharsets.UTF_8);
    assertThat(text).endsWith("\n");
    List<JsonNode> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      try {
        out.add(JSON.readTree(line));
      } catch (IOException e) {
        throw new AssertionError("not a JSON line: " + line, e);
      }
    }
    return out;
  }
}
