package dev.mlserve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real server process under load: it stops accepting, finishes what it accepted, and
 * exits. Every request that reached it gets its 200 and its request log line; only new connections
 * are refused.
 */
class GracefulShutdownTest {
  @TempDir Path tmp;

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void sigtermDrainsInFlightRequestsThenExits() throws Exception {
    int port = freePort();
    Path log = tmp.resolve("server.log");
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            "dev.mlserve.Main");
    pb.environment()
        .putAll(
            Map.of(
                "PORT",
                Integer.toString(port),
                "MODEL_BASE_PATH",
                TestSupport.demoModels().toString(),
                "SHUTDOWN_TIMEOUT_SECONDS",
                "15",
                "LOG_FORMAT",
                "json"));
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process server = pb.start();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    URI ready = URI.create("http://127.0.0.1:" + port + "/v2/health/ready");
    URI predict = URI.create("http://127.0.0.1:" + port + "/v1/models/imdb-sentiment:predict");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (client
                .send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          break;
        }
      } catch (IOException notYet) {
        // still starting
      }
      assertThat(System.nanoTime())
          .as("server became ready; log:\n" + Files.readString(log))
          .isLessThan(deadline);
      assertThat(server.isAlive()).as("server alive; log:\n" + Files.readString(log)).isTrue();
      Thread.sleep(200);
    }

    AtomicInteger ok = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    Map<String, Integer> failures = new ConcurrentHashMap<>();
    List<Thread> clients = new ArrayList<>();
    // long texts make each request take a little while, so some are in flight at SIGTERM
    String body =
        "{\"instances\": [" + "\"a long and winding review of a film \",".repeat(63) + "\"end\"]}";
    for (int c = 0; c < 12; c++) {
      Thread t =
          new Thread(
              () -> {
                HttpClient own =
                    HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                while (true) {
                  try {
                    HttpResponse<String> r =
                        own.send(
                            HttpRequest.newBuilder(predict)
                                .timeout(Duration.ofSeconds(30))
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                      ok.incrementAndGet();
                    } else {
                      failures.merge("HTTP " + r.statusCode() + " " + r.body(), 1, Integer::sum);
                    }
                  } catch (ConnectException e) {
                    refused.incrementAndGet(); // not accepted: the listener is closed
                    return;
                  } catch (IOException e) {
                    failures.merge(e.toString(), 1, Integer::sum);
                    return;
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              });
      t.start();
      clients.add(t);
    }
    // Wait for load to be really running (a fixed sleep saw none answered on a busy machine).
    long loadDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ok.get() <= 10 && failures.isEmpty() && System.nanoTime() < loadDeadline) {
      Thread.sleep(100);
    }
    int beforeSigterm = ok.get();
    server.destroy(); // SIGTERM
    assertThat(server.waitFor(40, TimeUnit.SECONDS)).as("server exited").isTrue();
    for (Thread t : clients) {
      t.join(10_000);
    }
    String output = Files.readString(log);
    assertThat(beforeSigterm).as("load was running").isGreaterThan(10);
    assertThat(failures).as("accepted requests that failed; log:\n" + output).isEmpty();
    assertThat(refused.get()).as("every client ended on a refused connection").isEqualTo(12);
    assertThat(output).contains("shutting down: draining").contains("stopped after");
    // The request log is asynchronous; what it held at exit was written out, not dropped.
    long logged =
        output
            .lines()
            .filter(l -> l.contains("\"event\":\"predict\"") && l.contains("\"status\":200"))
            .count();
    assertThat(logged).as("request log lines for the 200s answered").isEqualTo(ok.get());
    // A JSON request line: the fields once, as fields, and the bare event as its message.
    JsonNode line =
        new ObjectMapper()
            .readTree(
                output.lines().filter(l -> l.contains("\"event\":\"predict\"")).findFirst().get());
    assertThat(line.path("message").asText()).isEqualTo("predict");
    assertThat(line.path("event").asText()).isEqualTo("predict");
    assertThat(line.path("api").asText()).isEqualTo("tfserving");
    assertThat(line.path("model").asText()).isEqualTo("imdb-sentiment");
    assertThat(line.path("version").asLong()).isEqualTo(1);
    assertThat(line.path("rows").asInt()).isEqualTo(64);
    assertThat(line.path("status").asInt()).isEqualTo(200);
    assertThat(line.path("request_id").asText()).hasSize(36);
    assertThat(line.path("latency_ms").isNumber()).isTrue();
  }
}
