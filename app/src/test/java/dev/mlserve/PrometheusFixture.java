package dev.mlserve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) scraping the given targets every
 * second, on a free loopback port with its data under {@code target/}. Missing binary: the test
 * fails on CI (which installs it) and is skipped with a printed reason elsewhere.
 */
public final class PrometheusFixture implements AutoCloseable {
  public static final File PROMETHEUS = new File("/usr/bin/prometheus");
  public static final File PROMTOOL = new File("/usr/bin/promtool");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Process process;
  private final URI base;
  private final Path dir;

  private PrometheusFixture(Process process, URI base, Path dir) {
    this.process = process;
    this.base = base;
    this.dir = dir;
  }

  /** Skips (or fails on CI) when Debian's prometheus and promtool are not installed. */
  public static void requireInstalled(String testName) {
    if (PROMETHEUS.canExecute() && PROMTOOL.canExecute()) {
      return;
    }
    String reason =
        "SKIPPED "
            + testName
            + ": /usr/bin/prometheus and /usr/bin/promtool are needed (apt-get install"
            + " prometheus; CI installs it)";
    System.out.println(reason);
    if ("true".equals(System.getenv("CI"))) {
      throw new IllegalStateException(reason.replace("SKIPPED", "FAILED on CI"));
    }
    Assumptions.abort(reason);
  }

  /**
   * Starts Prometheus scraping {@code targets} ({@code host:port}, path {@code /metrics}) every
   * second, evaluating {@code ruleFiles} every second; returns once it answers ready.
   */
  public static PrometheusFixture start(List<String> targets, List<Path> ruleFiles)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "prometheus");
    int port = freePort();
    String rules =
        ruleFiles.isEmpty()
            ? ""
            : "rule_files:\n"
                + ruleFiles.stream()
                    .map(p -> "  - \"" + p.toAbsolutePath() + "\"")
                    .collect(Collectors.joining("\n"))
                + "\n";
    String config =
        "global:\n"
            + "  scrape_interval: 1s\n"
            + "  evaluation_interval: 1s\n"
            + rules
            + "scrape_configs:\n"
            + "  - job_name: mlserve\n"
            + "    metrics_path: /metrics\n"
            + "    static_configs:\n"
            + "      - targets: "
            + JSON.writeValueAsString(targets)
            + "\n";
    Path file = dir.resolve("prometheus.yml");
    Files.writeString(file, config);
    List<String> command = new ArrayList<>();
    command.add(PROMETHEUS.getPath());
    command.add("--config.file=" + file);
    command.add("--storage.tsdb.path=" + dir.resolve("data"));
    command.add("--web.listen-address=127.0.0.1:" + port);
    command.add("--log.level=warn");
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    PrometheusFixture fixture =
        new PrometheusFixture(process, URI.create("http://127.0.0.1:" + port), dir);
    fixture.awaitReady();
    return fixture;
  }

  public URI base() {
    return base;
  }

  /** Runs an instant PromQL query; returns Prometheus' {@code data.result} array. */
  public JsonNode query(String promql) throws IOException, InterruptedException {
    URI uri =
        base.resolve("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    HttpResponse<String> r =
        CLIENT.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = JSON.readTree(r.body());
    if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new IllegalStateException("query failed (" + r.statusCode() + "): " + r.body());
    }
    return body.path("data").path("result");
  }

  /** Waits until every target has been scraped successfully at least once. */
  public void awaitTargetsUp(int count, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode up = query("up == 1");
      if (up.size() >= count) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("targets not up after " + timeout + ": " + log());
  }

  /** What Prometheus printed, for failure messages. */
  public String log() throws IOException {
    return Files.readString(dir.resolve("prometheus.log"));
  }

  private void awaitReady() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("prometheus exited: " + log());
      }
      try {
        HttpResponse<Void> r =
            CLIENT.send(
                HttpRequest.newBuilder(base.resolve("/-/ready")).build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("prometheus not ready after 30 s: " + log());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
