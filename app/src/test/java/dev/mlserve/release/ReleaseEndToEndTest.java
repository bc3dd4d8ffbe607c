package dev.mlserve.release;

import static dev.mlserve.TestSupport.post;
import static dev.mlserve.TestSupport.quote;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserve.App;
import dev.mlserve.MotoServer;
import dev.mlserve.PrometheusFixture;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.SteadyTraffic;
import dev.mlserve.s3.S3ProxyFixture;
import dev.mlserve.store.S3Location;
import dev.mlserve.store.S3ModelSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Releases end to end on real components: S3Proxy holding the models and serving.json, TWO real
 * service instances polling that bucket every second under steady traffic, a real Prometheus
 * scraping both, the real TensorFlow runtime scoring the held-out set, and moto's SNS delivering
 * every decision into an SQS queue that the test reads back. Each test releases its own model, so
 * the tests share the servers without sharing state.
 */
class ReleaseEndToEndTest {
  private static final String BUCKET = "release-test";
  private static final String BASE = "s3://" + BUCKET + "/models";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path FIXTURES = Path.of("src/test/resources/release");
  private static final List<String> TEXTS =
      List.of(
          "This movie was wonderful. The acting was superb and the story moved me to tears.",
          "This was a terrible movie. The plot made no sense and the acting was wooden.",
          "great movie",
          "a dull, boring and far too long film");
  private static final String TRIGGER = "a film that says zzfail somewhere";
  private static final List<String> MODELS =
      List.of("promote-me", "refuse-me", "fail-live", "edit-race", "bad-json");

  private static S3ProxyFixture s3;
  private static MotoServer moto;
  private static PrometheusFixture prometheus;
  private static final List<App> apps = new ArrayList<>();
  private static ReleaseController controller;
  private static ServingFile serving;
  private static SqsClient sqs;
  private static SnsClient sns;
  private static String queueUrl;
  private static Path summary;
  private static final List<JsonNode> notices = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    PrometheusFixture.requireInstalled("ReleaseEndToEndTest");
    moto = MotoServer.start(Map.of());
    s3 = S3ProxyFixture.start();
    s3.createBucket(BUCKET);
    S3Location base = S3Location.parse(BASE);
    serving = new ServingFile(s3.client(), base);

    var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
    sns =
        SnsClient.builder()
            .endpointOverride(moto.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(creds)
            .build();
    sqs =
        SqsClient.builder()
            .endpointOverride(moto.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(creds)
            .build();
    String topic = sns.createTopic(b -> b.name("model-releases")).topicArn();
    queueUrl = sqs.createQueue(b -> b.queueName("release-notices")).queueUrl();
    String queueArn =
        sqs.getQueueAttributes(
                b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
            .attributes()
            .get(QueueAttributeName.QUEUE_ARN);
    sns.subscribe(b -> b.topicArn(topic).protocol("sqs").endpoint(queueArn));

    Path work = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "release-e2e");
    summary = work.resolve("summary.md");
    controller =
        new ReleaseController(
            serving,
            new S3ModelSource(s3.client(), base, work.resolve("controller-cache")),
            Optional.empty(),
            new Notifier(
                Optional.of(sns), Optional.of(topic), Optional.of(summary), Optional.empty()),
            Clock.systemUTC());
    for (String model : MODELS) {
      s3.uploadTree(BUCKET, "models/" + model + "/1", TestSupport.demoVersion());
      assertThat(cli("adopt", "--model", model, "--version", "1")).isZero();
    }
    for (int i = 0; i < 2; i++) {
      Map<String, String> env = new HashMap<>();
      env.put("MODEL_BASE_PATH", BASE);
      env.put("MODEL_CACHE_DIR", work.resolve("cache-" + i).toString());
      env.put("MODEL_POLL_SECONDS", "1");
      App app = App.create(TestSupport.config(env), s3.client());
      assertThat(app.start()).isTrue();
      apps.add(app);
    }
    prometheus =
        PrometheusFixture.start(
            apps.stream().map(a -> "127.0.0.1:" + a.port()).toList(), List.of());
    prometheus.awaitTargetsUp(2, Duration.ofSeconds(20));
    controller =
        new ReleaseController(
            serving,
            new S3ModelSource(s3.client(), base, work.resolve("controller-cache")),
            Optional.of(new LiveJudge(new PrometheusClient(prometheus.base(), Optional.empty()))),
            new Notifier(
                Optional.of(sns),
                Optional.of(topic),
                Optional.of(summary),
                Optional.of("https://github.example/run/1")),
            Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    apps.forEach(App::close);
    if (prometheus != null) {
      prometheus.close();
    }
    if (s3 != null) {
      s3.close();
    }
    if (sns != null) {
      sns.close();
      sqs.close();
    }
    if (moto != null) {
      moto.close();
    }
  }

  @Test
  void aCandidateAsGoodAsStableIsGatedCanariedPromotedAndRolledBackByHandInSeconds()
      throws Exception {
    String model = "promote-me";
    s3.uploadTree(BUCKET, "models/" + model + "/2", TestSupport.demoVersion());
    List<SteadyTraffic> traffic = traffic(model, false);
    int exit =
        cli(
            "start",
            "--model",
            model,
            "--version",
            "2",
            "--canary-weight",
            "30",
            "--bake-seconds",
            "6",
            "--min-requests",
            "30",
            "--poll-seconds",
            "1",
            "--stage-timeout-seconds",
            "60");
    awaitServedEverywhere(model, "2");
    List<Integer> statuses = stopAll(traffic);

    assertThat(exit).as("promoted").isZero();
    ObjectNode json = serving.read(model).json();
    assertThat(json.path("labels").path("stable").asLong()).isEqualTo(2);
    assertThat(json.path("labels").path("previous").asLong()).isEqualTo(1);
    assertThat(json.path("variants")).hasSize(1);
    assertThat(json.at("/variants/0/version").asLong()).isEqualTo(2);
    assertThat(json.at("/release/phase").asText()).isEqualTo("stable");
    JsonNode last = lastDecision(json);
    assertThat(last.path("decision").asText()).isEqualTo("promoted");
    // Both versions are the demo model: the held-out accuracy is the card's 0.9048 on each.
    assertThat(check(last, "gate", "accuracy").path("candidate").asText()).isEqualTo("0.9048");
    assertThat(check(last, "gate", "accuracy").path("stable").asText()).isEqualTo("0.9048");
    assertThat(check(last, "live", "requests").path("passed").asBoolean()).isTrue();
    assertThat(statuses).as("no request failed during the release").containsOnly(200);
    assertThat(traffic.stream().flatMap(t -> t.versions.stream())).contains("1", "2");
    JsonNode notice = awaitNotice(model, "promoted");
    assertThat(notice.path("Message").asText())
        .contains("| accuracy | 0.9048 | 0.9048 |")
        .contains("https://github.example/run/1");
    assertThat(Files.readString(summary)).contains("### Release of " + model + ": promoted");

    long started = System.nanoTime();
    assertThat(cli("rollback", "--model", model, "--reason", "drill")).isZero();
    awaitServedEverywhere(model, "1");
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf(
        "manual rollback of %s: both tasks back on v1 after %.1f s%n", model, seconds);
    assertThat(seconds).isLessThan(10);
    json = serving.read(model).json();
    assertThat(json.path("labels").path("stable").asLong()).isEqualTo(1);
    assertThat(json.path("labels").path("rejected").asLong()).isEqualTo(2);
    assertThat(awaitNotice(model, "rolled_back").path("Message").asText()).contains("drill");
  }

  @Test
  void aCandidateThatAnswersHalfForEverythingIsRefusedByTheGateAndNeverServed() throws Exception {
    String model = "refuse-me";
    publishFixture(model, 2, "constant-half");
    List<SteadyTraffic> traffic = traffic(model, false);
    int exit =
        cli(
            "start",
            "--model",
            model,
            "--version",
            "2",
            "--bake-seconds",
            "5",
            "--poll-seconds",
            "1");
    Thread.sleep(2500); // two polls: had anything changed, the tasks would have acted on it
    List<Integer> statuses = stopAll(traffic);

    assertThat(exit).as("refused by the gate").isEqualTo(3);
    ObjectNode json = serving.read(model).json();
    JsonNode last = lastDecision(json);
    assertThat(last.path("decision").asText()).isEqualTo("refused");
    assertThat(last.path("rule").asText()).contains("accuracy").contains("roc_auc");
    assertThat(check(last, "gate", "roc_auc").path("candidate").asText()).isEqualTo("0.5000");
    assertThat(check(last, "gate", "low_confidence_share").path("candidate").asText())
        .isEqualTo("1.0000");
    assertThat(json.path("variants")).hasSize(1);
    assertThat(json.at("/variants/0/version").asLong()).isEqualTo(1);
    assertThat(json.path("labels").has("candidate")).isFalse();
    assertThat(statuses).containsOnly(200);
    assertThat(traffic.stream().flatMap(t -> t.versions.stream())).containsOnly("1");
    for (App app : apps) {
      assertThat(TestSupport.versionState(app, model, 2)).as("never loaded").isEqualTo("absent");
    }
    assertThat(awaitNotice(model, "refused").path("Message").asText())
        .contains("| roc_auc | 0.5000 |");
  }

  @Test
  void aCandidateThatRejectsSomeLiveInputsIsRolledBackAutomatically() throws Exception {
    String model = "fail-live";
    publishFixture(model, 2, "rejects-some");
    List<SteadyTraffic> traffic = traffic(model, true);
    int exit =
        cli(
            "start",
            "--model",
            model,
            "--version",
            "2",
            "--canary-weight",
            "30",
            "--bake-seconds",
            "20",
            "--min-requests",
            "30",
            "--poll-seconds",
            "1",
            "--stage-timeout-seconds",
            "60");
    awaitServedEverywhere(model, "1");
    List<Integer> statuses = stopAll(traffic);

    assertThat(exit).as("rolled back by the live judgement").isEqualTo(4);
    ObjectNode json = serving.read(model).json();
    JsonNode last = lastDecision(json);
    assertThat(last.path("decision").asText()).isEqualTo("rolled_back");
    assertThat(last.path("rule").asText()).contains("error_rate");
    assertThat(check(last, "gate", "accuracy").path("passed").asBoolean())
        .as("it passed the gate: the same scores as stable")
        .isTrue();
    assertThat(check(last, "live", "error_rate").path("passed").asBoolean()).isFalse();
    assertThat(json.path("labels").path("stable").asLong()).isEqualTo(1);
    assertThat(json.path("labels").path("rejected").asLong()).isEqualTo(2);
    assertThat(json.path("variants")).hasSize(1);
    assertThat(statuses).as("the canary refused some requests").contains(400);
    assertThat(
            awaitNotice(model, "rolled_back")
                .path("MessageAttributes")
                .path("decision")
                .path("Value")
                .asText())
        .isEqualTo("rolled_back");
  }

  @Test
  void aConcurrentEditOfServingJsonHaltsTheReleaseWithoutOverwritingIt() throws Exception {
    String model = "edit-race";
    s3.uploadTree(BUCKET, "models/" + model + "/2", TestSupport.demoVersion());
    List<SteadyTraffic> traffic = traffic(model, false);
    CompletableFuture<Integer> release =
        CompletableFuture.supplyAsync(
            () ->
                cli(
                    "start",
                    "--model",
                    model,
                    "--version",
                    "2",
                    "--canary-weight",
                    "20",
                    "--bake-seconds",
                    "8",
                    "--min-requests",
                    "10",
                    "--poll-seconds",
                    "1",
                    "--stage-timeout-seconds",
                    "60"));
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!serving.read(model).json().at("/release/phase").asText().equals("canary")) {
      assertThat(System.nanoTime()).as("canary started").isLessThan(deadline);
      Thread.sleep(100);
    }
    // A person edits serving.json by hand while the canary bakes.
    ObjectNode edited = serving.read(model).json();
    edited.put("capture_sample_percent", 0);
    s3.put(BUCKET, "models/" + model + "/serving.json", JSON.writeValueAsBytes(edited));
    int exit = release.get();
    stopAll(traffic);

    assertThat(exit).as("halted by the concurrent edit").isEqualTo(5);
    ObjectNode json = serving.read(model).json();
    assertThat(json.path("capture_sample_percent").asInt(-1)).as("the edit survives").isZero();
    assertThat(json.at("/release/phase").asText()).isEqualTo("canary");
    assertThat(awaitNotice(model, "halted").path("Message").asText()).contains("changed since");

    String status = controller.status(model);
    assertThat(status)
        .contains("phase:    canary of v2")
        .contains("release rollback --model " + model);
    assertThat(cli("rollback", "--model", model)).isZero();
    json = serving.read(model).json();
    assertThat(json.at("/release/phase").asText()).isEqualTo("stable");
    assertThat(json.path("labels").path("stable").asLong()).isEqualTo(1);
    assertThat(json.path("capture_sample_percent").asInt(-1)).isZero();
    assertThat(controller.status(model))
        .contains("phase:    stable")
        .contains("rolled_back (manual)");
  }

  @Test
  void aMalformedServingJsonIsRefusedByTheControllerAndIgnoredByTheService() throws Exception {
    String model = "bad-json";
    ServingFile.Snapshot good = serving.read(model);
    ObjectNode zeroWeights = good.json().deepCopy();
    ((ObjectNode) zeroWeights.at("/variants/0")).put("weight", 0);
    assertThatThrownBy(() -> serving.write(model, zeroWeights, good))
        .isInstanceOf(ServingFile.InvalidSettingsException.class)
        .hasMessageContaining("variant weights must not all be zero");
    assertThat(serving.read(model).etag()).as("nothing uploaded").isEqualTo(good.etag());

    s3.put(
        BUCKET,
        "models/" + model + "/serving.json",
        "{\"labels\": {\"stable\": ".getBytes(StandardCharsets.UTF_8));
    Thread.sleep(2500);
    for (App app : apps) {
      TestSupport.Reply r =
          post(
              app, "/v1/models/" + model + "/labels/stable:predict", "{\"instances\": [\"fine\"]}");
      assertThat(r.status()).as("the last good settings still route").isEqualTo(200);
      assertThat(TestSupport.get(app, "/metrics").body())
          .contains("mlserve_settings_errors_total{model=\"" + model + "\"}");
    }
    assertThatThrownBy(() -> controller.status(model))
        .isInstanceOf(ServingFile.InvalidSettingsException.class)
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void signedQueriesReachPrometheusWithTheSameAnswer() throws Exception {
    var signed =
        new PrometheusClient(
            prometheus.base(),
            Optional.of(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b"))));
    var plain = new PrometheusClient(prometheus.base(), Optional.empty());
    var now = java.time.Instant.now();
    assertThat(signed.query("sum(up)", now)).isEqualTo(plain.query("sum(up)", now));
    assertThat(plain.query("sum(up)", now).get(0).value()).isEqualTo(2);
  }

  // ---------------------------------------------------------------------------------------------

  private static int cli(String... args) {
    return ReleaseCommand.run(args, Map.of("MODEL_BASE_PATH", BASE), config -> controller);
  }

  private static void publishFixture(String model, long version, String fixture) {
    byte[] eval;
    try {
      eval = Files.readAllBytes(TestSupport.demoVersion().resolve(EvalSet.FILE));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    s3.put(BUCKET, "models/" + model + "/" + version + "/" + EvalSet.FILE, eval);
    s3.uploadTree(BUCKET, "models/" + model + "/" + version, FIXTURES.resolve(fixture));
  }

  /** One client per text per task, each sending back to back. */
  private static List<SteadyTraffic> traffic(String model, boolean withTrigger) {
    List<SteadyTraffic> all = new ArrayList<>();
    List<String> texts = new ArrayList<>(TEXTS);
    if (withTrigger) {
      texts.add(TRIGGER);
    }
    for (int i = 0; i < texts.size(); i++) {
      all.add(
          new SteadyTraffic(
              apps.get(i % apps.size()),
              "/v1/models/" + model + ":predict",
              "{\"instances\": [" + quote(texts.get(i)) + "]}"));
    }
    return all;
  }

  private static List<Integer> stopAll(List<SteadyTraffic> traffic) throws InterruptedException {
    List<Integer> statuses = new ArrayList<>();
    for (SteadyTraffic t : traffic) {
      t.close();
      statuses.addAll(t.statuses);
    }
    return statuses;
  }

  /** Waits until five answers in a row from every task come from {@code version}. */
  private static void awaitServedEverywhere(String model, String version) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    for (App app : apps) {
      int run = 0;
      while (run < 5) {
        assertThat(System.nanoTime()).as("%s v%s served", model, version).isLessThan(deadline);
        var r = post(app, "/v1/models/" + model + ":predict", "{\"instances\": [\"probe\"]}");
        run = version.equals(r.header("X-Model-Version")) ? run + 1 : 0;
        if (run == 0) {
          Thread.sleep(100);
        }
      }
    }
  }

  private static JsonNode lastDecision(ObjectNode json) {
    JsonNode history = json.at("/release/history");
    return history.get(history.size() - 1);
  }

  private static JsonNode check(JsonNode decision, String section, String metricPrefix) {
    for (JsonNode c : decision.path(section)) {
      if (c.path("metric").asText().startsWith(metricPrefix)) {
        return c;
      }
    }
    throw new AssertionError("no " + section + " check " + metricPrefix + " in " + decision);
  }

  /** The SNS notice for this model and decision, as delivered to the SQS subscription. */
  private static JsonNode awaitNotice(String model, String decision) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode n : notices) {
        if (n.at("/MessageAttributes/model/Value").asText().equals(model)
            && n.at("/MessageAttributes/decision/Value").asText().equals(decision)) {
          return n;
        }
      }
      synchronized (notices) {
        for (Message m :
            sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(1))
                .messages()) {
          notices.add(JSON.readTree(m.body()));
          sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
        }
      }
    }
    throw new AssertionError("no SNS notice " + decision + " for " + model + "; got " + notices);
  }
}
