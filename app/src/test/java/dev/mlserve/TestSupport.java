package dev.mlserve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.config.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Shared test helpers: the bundled demo model, a real server on a loopback port, an HTTP client.
 */
public final class TestSupport {
  public static final String MODEL = "imdb-sentiment";
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestSupport() {}

  /** The repository's bundled models folder (tests run in app/). */
  public static Path demoModels() {
    return Path.of("..", "models").toAbsolutePath().normalize();
  }

  /**
   * The test SavedModels (training/fixtures/make_test_models.py): {@code calc/1} with numeric,
   * multi-input, unbatched and [-1, 1] vs [-1] signatures.
   */
  public static Path fixtureModels() {
    return Path.of("src", "test", "resources", "models").toAbsolutePath().normalize();
  }

  /** A models folder under {@code dir} holding the demo model and the test model calc. */
  public static Path demoAndCalc(Path dir) throws IOException {
    copyTree(demoModels().resolve(MODEL), dir.resolve(MODEL));
    copyTree(fixtureModels().resolve("calc"), dir.resolve("calc"));
    return dir;
  }

  /** Starts a real server on loopback serving the models in {@code base}. */
  public static App startServer(Path base, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>(overrides);
    env.put("MODEL_BASE_PATH", base.toString());
    return startServer(env);
  }

  /** The demo model's golden scores by case name (training/golden/imdb-sentiment-1.json). */
  public static Map<String, Golden> golden() {
    try {
      JsonNode root =
          JSON.readTree(
              demoModels()
                  .resolveSibling("training")
                  .resolve("golden/imdb-sentiment-1.json")
                  .toFile());
      Map<String, Golden> cases = new java.util.LinkedHashMap<>();
      for (JsonNode c : root.get("cases")) {
        cases.put(
            c.get("name").asText(), new Golden(c.get("text").asText(), c.get("score").asDouble()));
      }
      return cases;
    } catch (IOException e) {
      throw new IllegalStateException("golden file unreadable", e);
    }
  }

  /** One golden case: a text and the score Python computed for it. */
  public record Golden(String text, double score) {
    /** The golden file's tolerance: batched and single calls differ in the last float bits. */
    public static final double TOLERANCE = 1e-5;
  }

  /** The sum of every sample of a Prometheus metric whose line contains all {@code labels}. */
  public static double metric(App app, String name, String... labels) {
    double sum = 0;
    for (String line : get(app, "/metrics").body().split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= line.contains(l);
      }
      if (all) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  public static Path demoVersion() {
    return demoModels().resolve(MODEL).resolve("1");
  }

  /** A configuration for a server on a free port, with overrides. */
  public static ServerConfig config(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("PORT", "0");
    env.put("MODEL_BASE_PATH", demoModels().toString());
    env.put("SHUTDOWN_TIMEOUT_SECONDS", "5");
    env.putAll(overrides);
    return ServerConfig.fromEnvironment(env);
  }

  /** Starts a real server on loopback serving the demo model. */
  public static App startServer(Map<String, String> overrides) {
    App app = App.create(config(overrides));
    if (!app.start()) {
      app.close();
      throw new IllegalStateException("the demo model did not load");
    }
    return app;
  }

  /** A response with its body parsed as JSON (null when it is not JSON). */
  public record Reply(int status, String body, HttpResponse<String> raw) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    public String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }
  }

  public static Reply get(App app, String path) {
    return send(HttpRequest.newBuilder(uri(app, path)).GET().build());
  }

  public static Reply post(App app, String path, String body) {
    return post(app, path, body, Map.of());
  }

  public static Reply post(App app, String path, String body, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(app, path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return send(b.build());
  }

  public static Reply send(HttpRequest request) {
    try {
      HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body(), r);
    } catch (IOException e) {
      throw new AssertionError("request failed: " + request, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  public static URI uri(App app, String path) {
    return URI.create("http://127.0.0.1:" + app.port() + path);
  }

  /**
   * The state of one version in GET /v1/models/{model} ("AVAILABLE ", "END could not load…"), or
   * "absent".
   */
  public static String versionState(App app, String model, long version) {
    for (JsonNode s : get(app, "/v1/models/" + model).json().get("model_version_status")) {
      if (s.get("version").asText().equals(Long.toString(version))) {
        return s.get("state").asText() + " " + s.at("/status/error_message").asText();
      }
    }
    return "absent";
  }

  /**
   * One client thread sending the same prediction back to back until closed, recording each reply's
   * status and X-Model-Version: traffic that must see no failure while versions change.
   */
  public static final class SteadyTraffic implements AutoCloseable {
    public final List<Integer> statuses = new CopyOnWriteArrayList<>();
    public final List<String> versions = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread client;

    public SteadyTraffic(App app, String path, String body) {
      client =
          new Thread(
              () -> {
                while (running.get()) {
                  Reply r = post(app, path, body);
                  statuses.add(r.status());
                  versions.add(r.header("X-Model-Version"));
                }
              });
      client.start();
    }

    /** Stops the client and waits for its last request. */
    @Override
    public void close() throws InterruptedException {
      running.set(false);
      client.join();
    }
  }

  /** Copies a folder tree (for building model stores in temp folders). */
  public static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /** The JSON string for {@code text}. */
  public static String quote(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
