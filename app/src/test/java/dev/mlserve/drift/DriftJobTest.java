package dev.mlserve.drift;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.MotoServer;
import dev.mlserve.TestSupport;
import dev.mlserve.capture.CaptureRecord;
import dev.mlserve.capture.S3CaptureWriter;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.s3.S3ProxyFixture;
import dev.mlserve.store.LocalModelSource;
import dev.mlserve.store.S3Location;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The drift job end to end on emulators: capture files written by the service's own capture writer
 * into S3Proxy, the bundled model's real training baseline (models/imdb-sentiment/1), reports read
 * back from S3, and moto's SNS delivering to an SQS queue. Traffic is generated from the baseline
 * itself (scores and lengths drawn from its percentiles, words from its vocabulary), then shifted
 * one way at a time.
 */
class DriftJobTest {
  private static final String BUCKET = "mlops";
  private static final String MODEL = TestSupport.MODEL;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> FOREIGN =
      List.of(
          "sehr",
          "schön",
          "großartig",
          "wunderbar",
          "langweilig",
          "ausgezeichnet",
          "geschichte",
          "schauspieler",
          "película",
          "muy",
          "buena",
          "hermosa",
          "aburrida",
          "actuación",
          "émouvant",
          "très",
          "magnifique",
          "ennuyeux",
          "bellissimo",
          "noioso",
          "bardzo",
          "dobry",
          "nudny");

  private static S3ProxyFixture s3proxy;
  private static S3Client s3;
  private static MotoServer moto;
  private static SnsClient sns;
  private static SqsClient sqs;
  private static String topicArn;
  private static Baseline baseline;
  private static List<String> vocabulary;
  private static int hourOffset;

  @BeforeAll
  static void start() throws Exception {
    moto = MotoServer.start(Map.of());
    s3proxy = S3ProxyFixture.start();
    s3 = s3proxy.client();
    s3proxy.createBucket(BUCKET);
    var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
    sns =
        SnsClient.builder()
            .endpointOverride(moto.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(credentials)
            .build();
    sqs =
        SqsClient.builder()
            .endpointOverride(moto.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(credentials)
            .build();
    topicArn = sns.createTopic(b -> b.name("alarms")).topicArn();
    baseline = Baseline.parse(Files.readAllBytes(TestSupport.demoVersion().resolve(Baseline.FILE)));
    vocabulary = baseline.vocabulary().stream().sorted().toList();
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {sns, sqs, s3proxy, moto}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  void trafficLikeTheBaselinePassesEveryCheckAndStaysQuiet() throws Exception {
    Run run = run(600, DoubleUnaryOperator.identity(), 1.0, false);
    assertThat(run.report.path("status").asText()).isEqualTo("pass");
    assertThat(statuses(run.report).values()).containsOnly("pass");
    assertThat(statuses(run.report)).hasSize(10);
    assertThat(run.messages).isEmpty();
  }

  @Test
  void shiftedScoresFailTheScoreChecksOnly() throws Exception {
    // Every score moved into the upper half: the model now calls almost everything positive.
    Run run = run(600, s -> 0.5 + s * 0.5, 1.0, false);
    assertThat(run.report.path("status").asText()).isEqualTo("violation");
    assertThat(failed(run.report))
        .contains("positive_rate_change", "score_psi", "score_ks")
        .doesNotContain(
            "text_length_p50_ratio",
            "text_length_p95_ratio",
            "text_length_psi",
            "oov_rate_increase",
            "empty_or_non_letter_rate");
    assertOneMessageNaming(run, failed(run.report));
  }

  @Test
  void longerTextsFailTheLengthChecksOnly() throws Exception {
    Run run = run(600, DoubleUnaryOperator.identity(), 4.0, false);
    assertThat(failed(run.report))
        .containsExactlyInAnyOrder(
            "text_length_p50_ratio", "text_length_p95_ratio", "text_length_psi");
    assertOneMessageNaming(run, failed(run.report));
  }

  @Test
  void aForeignLanguageBatchFailsTheVocabularyAndConfidenceChecks() throws Exception {
    // Texts the model has no words for score near its prior (0.45 for the bundled model).
    Run run = run(600, s -> 0.44 + s * 0.02, 1.0, true);
    assertThat(failed(run.report))
        .contains("oov_rate_increase", "low_confidence_share_increase")
        .doesNotContain("text_length_p50_ratio", "empty_or_non_letter_rate");
    assertThat(check(run.report, "oov_rate_increase").path("value").asDouble()).isGreaterThan(0.8);
    assertOneMessageNaming(run, failed(run.report));
  }

  @Test
  void fewRowsSayNotEnoughDataAndJudgeNothing() throws Exception {
    Run run = run(50, s -> Math.min(1.0, 0.35 + s * 0.65), 4.0, true);
    assertThat(run.report.path("status").asText()).isEqualTo("not_enough_data");
    assertThat(statuses(run.report).values()).containsOnly("not_enough_data");
    assertThat(run.report.path("rows").asInt()).isEqualTo(50);
    assertThat(run.messages).isEmpty();
  }

  @Test
  void linesThatAreNotRecordsAreSkippedAndAVersionWithoutBaselineIsAFailure() throws Exception {
    Instant hour = nextHour();
    S3Location capture = S3Location.parse("s3://" + BUCKET + "/capture");
    String prefix =
        "capture/model="
            + MODEL
            + "/date="
            + hour.toString().substring(0, 10)
            + "/hour="
            + hour.toString().substring(11, 13)
            + "/";
    String good = line(hour.plusSeconds(5), 1, "a fine film", 0.7);
    String noBaseline = line(hour.plusSeconds(6), 7, "another film", 0.2);
    s3proxy.put(
        BUCKET,
        prefix + UUID.randomUUID() + ".jsonl",
        (good + "\n{not json\n" + "{\"time\":\"yesterday\"}\n" + noBaseline + "\n")
            .getBytes(StandardCharsets.UTF_8));
    DriftJob.Outcome outcome = job(hour, capture, Optional.empty()).run();
    assertThat(outcome.reports()).extracting(DriftReport::version).containsExactly(1L);
    assertThat(outcome.failures())
        .singleElement()
        .asString()
        .contains("v7")
        .contains("no usable baseline");
  }

  @Test
  void badArgumentsExitTwoNamingEveryProblem() {
    var err = new java.io.ByteArrayOutputStream();
    var old = System.err;
    System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code =
          new CommandLine(new DriftCommand())
              .execute(
                  "--model",
                  "../etc",
                  "--window",
                  "-PT1H",
                  "--capture",
                  "http://x",
                  "--report",
                  "s3://b/r",
                  "--models",
                  "m");
    } finally {
      System.setErr(old);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--model '../etc'")
        .contains("--window must be positive")
        .contains("--capture");
  }

  // ---- helpers

  private record Run(JsonNode report, String summary, List<Message> messages) {}

  /**
   * Writes {@code rows} captured rows of version 1 into a fresh hour through the service's capture
   * writer, runs the job over that hour, and returns the report, the summary and what SQS got.
   */
  private static Run run(
      int rows, DoubleUnaryOperator scoreShift, double lengthFactor, boolean foreign)
      throws Exception {
    Instant hour = nextHour();
    String queueUrl = sqs.createQueue(b -> b.queueName("drift-" + hourOffset)).queueUrl();
    String queueArn =
        sqs.getQueueAttributes(
                b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
            .attributes()
            .get(QueueAttributeName.QUEUE_ARN);
    sns.subscribe(b -> b.topicArn(topicArn).protocol("sqs").endpoint(queueArn));

    Random random = new Random(hourOffset);
    var settings =
        new ServerConfig.Capture(
            Optional.of("s3://" + BUCKET + "/capture"), 100, 100_000, 250, Duration.ofSeconds(1));
    try (S3CaptureWriter writer =
        new S3CaptureWriter(s3, BUCKET, "capture", settings, new ServingMetrics())) {
      for (int i = 0; i < rows; i++) {
        double score =
            scoreShift.applyAsDouble(inverse(baseline.scorePercentiles(), random.nextDouble()));
        int length = (int) (inverse(lengthPercentiles(), random.nextDouble()) * lengthFactor);
        String text = text(random, Math.max(length, 1), foreign ? FOREIGN : vocabulary);
        writer.offer(
            new CaptureRecord(
                UUID.randomUUID().toString(),
                hour.plusMillis(i * 1000L),
                MODEL,
                1,
                "",
                "serving_default",
                Map.of("text", Map.of("shape", List.of(1, 1), "data", List.of(text))),
                Map.of("output_0", Map.of("shape", List.of(1, 1), "data", List.of(score))),
                3.0,
                new int[0]));
      }
    } // close() flushes every record
    S3Location capture = S3Location.parse("s3://" + BUCKET + "/capture");
    DriftJob.Outcome outcome = job(hour, capture, Optional.of(topicArn)).run();
    assertThat(outcome.failures()).isEmpty();
    assertThat(outcome.reportKeys()).singleElement().asString().endsWith("/report.json");
    String key = outcome.reportKeys().get(0);
    assertThat(key)
        .isEqualTo(
            "reports/model="
                + MODEL
                + "/version=1/variant=_/end="
                + hour.plus(Duration.ofHours(1)).toString().replace("-", "").replace(":", "")
                + "/report.json");
    JsonNode report = JSON.readTree(s3proxy.get(BUCKET, key));
    String summary =
        new String(
            s3proxy.get(BUCKET, key.replace("report.json", "summary.txt")), StandardCharsets.UTF_8);
    List<Message> messages = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (System.nanoTime() < deadline) {
      messages.addAll(
          sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(1))
              .messages());
    }
    return new Run(report, summary, messages);
  }

  private static DriftJob job(Instant hour, S3Location capture, Optional<String> topic) {
    return new DriftJob(
        s3,
        sns,
        new LocalModelSource(TestSupport.demoModels()),
        new DriftJob.Settings(
            MODEL,
            Optional.empty(),
            Optional.empty(),
            hour,
            hour.plus(Duration.ofHours(1)),
            capture,
            S3Location.parse("s3://" + BUCKET + "/reports"),
            topic,
            Thresholds.defaults(200),
            Optional.empty(),
            Optional.empty()));
  }

  private static void assertOneMessageNaming(Run run, List<String> failedChecks) throws Exception {
    assertThat(run.messages).hasSize(1);
    JsonNode envelope = JSON.readTree(run.messages.get(0).body());
    assertThat(envelope.path("Subject").asText()).startsWith("Drift: " + MODEL);
    String message = envelope.path("Message").asText();
    assertThat(message)
        .contains("Report: s3://" + BUCKET + "/reports/model=" + MODEL + "/version=1/");
    for (String c : failedChecks) {
      assertThat(message).contains(c);
    }
    assertThat(run.summary).contains("VIOLATION");
  }

  private static Instant nextHour() {
    return Instant.parse("2026-01-01T00:00:00Z").plus(Duration.ofHours(++hourOffset));
  }

  private static double[] lengthPercentiles() throws Exception {
    JsonNode root = JSON.readTree(TestSupport.demoVersion().resolve(Baseline.FILE).toFile());
    double[] p = new double[101];
    for (int i = 0; i < 101; i++) {
      p[i] = root.at("/text_length/percentiles/" + i).asDouble();
    }
    return p;
  }

  /**
   * The baseline distribution's value at cumulative share {@code u} (linear between percentiles).
   */
  private static double inverse(double[] percentiles, double u) {
    double pos = u * 100;
    int i = (int) Math.floor(pos);
    return i >= 100
        ? percentiles[100]
        : percentiles[i] + (percentiles[i + 1] - percentiles[i]) * (pos - i);
  }

  private static String text(Random random, int length, List<String> words) {
    StringBuilder b = new StringBuilder();
    while (b.length() < length) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(words.get(random.nextInt(words.size())));
    }
    return b.toString();
  }

  private static String line(Instant time, long version, String text, double score)
      throws Exception {
    Map<String, Object> m = new HashMap<>();
    m.put("time", time.toString());
    m.put("model", MODEL);
    m.put("version", version);
    m.put("variant", null);
    m.put("inputs", Map.of("text", Map.of("shape", List.of(1, 1), "data", List.of(text))));
    m.put("outputs", Map.of("output_0", Map.of("shape", List.of(1, 1), "data", List.of(score))));
    return JSON.writeValueAsString(m);
  }

  private static Map<String, String> statuses(JsonNode report) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    report
        .path("checks")
        .forEach(c -> out.put(c.path("check").asText(), c.path("status").asText()));
    return out;
  }

  private static List<String> failed(JsonNode report) {
    return statuses(report).entrySet().stream()
        .filter(e -> e.getValue().equals("violation"))
        .map(Map.Entry::getKey)
        .collect(Collectors.toList());
  }

  private static JsonNode check(JsonNode report, String name) {
    for (JsonNode c : report.path("checks")) {
      if (c.path("check").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no check " + name + " in " + report);
  }
}
