package dev.mlserve.metrics;

import static dev.mlserve.TestSupport.post;
import static dev.mlserve.TestSupport.quote;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mlserve.App;
import dev.mlserve.PrometheusFixture;
import dev.mlserve.TestSupport;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The Grafana dashboard and the alert rules under {@code terraform/modules/prometheus/} checked
 * against a real Prometheus scraping a real service under load: {@code promtool check rules}, every
 * dashboard query and every alert's measurement return series, and Prometheus evaluates every rule
 * without error.
 *
 * <p>The service is set up so that the rare events the dashboard and alerts watch really happen: a
 * second model whose SavedModel is junk (a failed load), an invalid {@code serving.json} (a
 * settings error; the previous settings stay in force), capture into a one-record buffer whose S3
 * endpoint refuses connections (dropped records), a model folder moved away for a few polls (store
 * errors), bad input (400s before and after routing: {@code bad_input} prediction errors), and a
 * text inside the low-confidence band.
 */
class DashboardQueriesTest {
  private static final Path MODULE = Path.of("..", "terraform", "modules", "prometheus");
  private static final Path RULES = MODULE.resolve("rules/mlserve.rules.yml");
  private static final Path DASHBOARD = MODULE.resolve("dashboards/mlserve.json");

  /**
   * Grafana's variables as Grafana would expand them for this test: one model selected, a rate
   * window of 20 s (Grafana derives {@code $__rate_interval} from the scrape interval, 1 s here,
   * and the panel width; 20 s holds enough scrapes for every rate), a 5 min dashboard range.
   */
  private static final Map<String, String> GRAFANA_VARIABLES =
      Map.of(
          "$__rate_interval", "20s",
          "$__range", "5m",
          "$model", "imdb-sentiment");

  private static final List<String> TEXTS =
      List.of(
          "This movie was wonderful. The acting was superb and the story moved me to tears.",
          "not good", // 0.4723: inside the default low-confidence band
          "awful film",
          "great movie");

  private static Path base;
  private static App app;
  private static S3Client deadS3;
  private static PrometheusFixture prometheus;
  private static final AtomicBoolean loading = new AtomicBoolean(true);
  private static final List<Thread> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    PrometheusFixture.requireInstalled("DashboardQueriesTest");
    Path root = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "dashboard");
    base = root.resolve("models");
    TestSupport.copyTree(TestSupport.demoVersion(), base.resolve("imdb-sentiment/1"));
    Files.createDirectories(base.resolve("broken/1/variables"));
    Files.writeString(base.resolve("broken/1/saved_model.pb"), "not a SavedModel");
    Files.writeString(base.resolve("imdb-sentiment/serving.json"), "{not json");

    deadS3 =
        S3Client.builder()
            .endpointOverride(URI.create("http://127.0.0.1:" + closedPort()))
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
            .build();
    app =
        App.create(
            TestSupport.config(
                Map.of(
                    "MODEL_BASE_PATH", base.toString(),
                    "MODEL_POLL_SECONDS", "1",
                    "MAX_ROWS", "4",
                    "CAPTURE_S3_URI", "s3://capture/c",
                    "CAPTURE_BUFFER_RECORDS", "1",
                    "CAPTURE_MAX_RECORDS_PER_FILE", "1")),
            deadS3);
    app.start(); // false: "broken" never loads; imdb-sentiment serves
    prometheus = PrometheusFixture.start(List.of("127.0.0.1:" + app.port()), List.of(RULES));
    prometheus.awaitTargetsUp(1, Duration.ofSeconds(20));

    for (int i = 0; i < 4; i++) {
      int n = i;
      Thread t =
          new Thread(
              () -> {
                int k = n;
                while (loading.get()) {
                  String text = TEXTS.get(k++ % TEXTS.size());
                  post(
                      app,
                      "/v1/models/imdb-sentiment:predict",
                      "{\"instances\":[" + quote(text) + "]}");
                  if (k % 10 == 0) {
                    post(app, "/v1/models/imdb-sentiment:predict", "{\"instances\":[42]}");
                    // five rows over MAX_ROWS=4: refused after routing, a bad_input error
                    post(
                        app,
                        "/v1/models/imdb-sentiment:predict",
                        "{\"instances\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}");
                  }
                }
              });
      t.start();
      clients.add(t);
    }
    // A few failed polls of the store, then the folder is back.
    Path away = root.resolve("models-away");
    Files.move(base, away);
    Thread.sleep(2500);
    Files.move(away, base);
    System.gc(); // a GC pause for the JVM panels, whatever the heap did so far
    Thread.sleep(12_000); // enough 1 s scrapes for every rate over 20 s
  }

  @AfterAll
  static void stop() throws InterruptedException {
    loading.set(false);
    for (Thread t : clients) {
      t.join();
    }
    if (prometheus != null) {
      prometheus.close();
    }
    if (app != null) {
      app.close();
    }
    if (deadS3 != null) {
      deadS3.close();
    }
  }

  @Test
  void promtoolAcceptsTheRules() throws Exception {
    Process p =
        new ProcessBuilder(PrometheusFixture.PROMTOOL.getPath(), "check", "rules", RULES.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    assertThat(out).contains("SUCCESS: " + alerts().size() + " rules found");
  }

  @Test
  void everyDashboardQueryReturnsSeries() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> failures = new ArrayList<>();
    int queries = 0;
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.path("targets")) {
        queries++;
        String expr = expand(target.get("expr").asText());
        String problem = check(expr);
        if (problem != null) {
          failures.add(
              panel.get("title").asText() + " [" + target.get("refId").asText() + "]: " + problem);
        }
      }
    }
    assertThat(queries).as("dashboard queries").isGreaterThanOrEqualTo(20);
    assertThat(failures).as("panels without data").isEmpty();
  }

  @Test
  void everyDashboardVariableQueryFindsTheModel() throws Exception {
    for (JsonNode v : new ObjectMapper().readTree(DASHBOARD.toFile()).at("/templating/list")) {
      if (!v.path("type").asText().equals("query")) {
        continue;
      }
      String q = v.at("/query/query").asText();
      assertThat(q).startsWith("label_values(");
      // label_values(<selector>, <label>) is Grafana's; Prometheus answers it as a series query.
      String selector = q.substring("label_values(".length(), q.lastIndexOf(','));
      String label = q.substring(q.lastIndexOf(',') + 1, q.length() - 1).trim();
      JsonNode series = prometheus.query(selector);
      List<String> values = new ArrayList<>();
      series.forEach(s -> values.add(s.path("metric").path(label).asText()));
      assertThat(values).as(q).contains("imdb-sentiment");
    }
  }

  @Test
  void everyAlertMeasurementReturnsSeries() throws Exception {
    List<String> failures = new ArrayList<>();
    for (JsonNode rule : alerts()) {
      String expr = rule.get("expr").asText();
      String whole = checkParses(expr);
      String problem = whole != null ? whole : check(measurement(expr));
      if (problem != null) {
        failures.add(rule.get("alert").asText() + ": " + problem);
      }
    }
    assertThat(failures).as("alerts that cannot see their measurement").isEmpty();
  }

  @Test
  void prometheusEvaluatesEveryRuleWithoutError() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    JsonNode groups;
    do {
      groups = prometheus.get("/api/v1/rules").at("/data/groups");
      Thread.sleep(200);
    } while (groups.isEmpty() && System.nanoTime() < deadline);
    List<String> health = new ArrayList<>();
    for (JsonNode g : groups) {
      for (JsonNode r : g.get("rules")) {
        health.add(
            r.get("name").asText()
                + "="
                + r.get("health").asText()
                + r.path("lastError").asText(""));
      }
    }
    assertThat(health).hasSize(alerts().size()).allMatch(h -> h.endsWith("=ok"), "healthy");
  }

  @Test
  void theFailedLoadTheDashboardShowsIsReal() throws Exception {
    // The "Model loads" panel and MlServeModelLoadFailed see the junk model's failed loads.
    JsonNode r =
        prometheus.query("mlserve_model_load_seconds_count{model=\"broken\",outcome=\"failed\"}");
    assertThat(r).isNotEmpty();
    assertThat(r.get(0).at("/value/1").asDouble()).isGreaterThanOrEqualTo(1);
  }

  private static List<JsonNode> alerts() throws IOException {
    JsonNode rules = new YAMLMapper().readTree(RULES.toFile());
    List<JsonNode> out = new ArrayList<>();
    rules.get("groups").forEach(g -> g.get("rules").forEach(out::add));
    return out;
  }

  static String expand(String expr) {
    String out = expr;
    for (var e : GRAFANA_VARIABLES.entrySet()) {
      out = out.replace(e.getKey(), e.getValue());
    }
    assertThat(out).as("unexpanded Grafana variable in %s", expr).doesNotContain("$");
    return out;
  }

  /** Null when {@code expr} runs and returns at least one series, else what went wrong. */
  private static String check(String expr) {
    try {
      JsonNode result = prometheus.query(expr);
      return result.isEmpty() ? "no series for " + expr : null;
    } catch (Exception e) {
      return e.getMessage();
    }
  }

  private static String checkParses(String expr) {
    try {
      prometheus.query(expr);
      return null;
    } catch (Exception e) {
      return e.getMessage();
    }
  }

  /**
   * The measured side of {@code <measurement> <op> <threshold>}: everything before the last
   * comparison operator outside parentheses, braces and quotes.
   */
  static String measurement(String expr) {
    int depth = 0;
    boolean quoted = false;
    int cut = -1;
    for (int i = 0; i < expr.length(); i++) {
      char c = expr.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && (c == '(' || c == '{' || c == '[')) {
        depth++;
      } else if (!quoted && (c == ')' || c == '}' || c == ']')) {
        depth--;
      } else if (!quoted && depth == 0 && (c == '>' || c == '<' || c == '=' || c == '!')) {
        if (cut < 0 || i > cut + 1) {
          cut = i;
        }
      }
    }
    assertThat(cut).as("no top-level comparison in %s", expr).isPositive();
    return expr.substring(0, cut).trim();
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
