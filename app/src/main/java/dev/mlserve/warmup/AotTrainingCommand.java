package dev.mlserve.warmup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.App;
import dev.mlserve.config.ConfigException;
import dev.mlserve.config.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The AOT cache's training run ("record and exit"): starts the real service on the configured
 * models (the same environment as {@code serve}, on a loopback port of its own), drives it over
 * HTTP with a representative mix for a while, stops it and exits 0. Run under {@code
 * -XX:AOTCacheOutput=FILE}, the JVM then writes the classes it loaded and linked and the method
 * profiles it gathered, so a later start with {@code -XX:AOTCache=FILE} skips that work
 * (scripts/lib/aot.sh records the image's cache this way).
 *
 * <p>The mix: many concurrent one-row requests (what the batcher merges into batches of up to the
 * client count), multi-row requests up to {@code BATCH_MAX_SIZE}, through TensorFlow Serving's row
 * and columnar formats and V2; health, metadata, status and metrics reads; and bad requests, so the
 * error path is in the cache too. Any answer other than the expected one fails the run (exit 1): a
 * cache trained on errors would be worse than none.
 */
@Command(
    name = "aot-training",
    mixinStandardHelpOptions = true,
    description =
        "Serve the configured models on a loopback port, send them a representative request mix"
            + " through both APIs, stop, and exit 0. Run with -XX:AOTCacheOutput=FILE to record an"
            + " AOT cache.")
public final class AotTrainingCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Review-like fragments; texts are random runs of them, from a few words to a long review. */
  private static final List<String> FRAGMENTS =
      List.of(
          "A wonderful film, moving and beautifully acted.",
          "Dull, predictable and far too long.",
          "The plot makes no sense at all, but the music is great.",
          "I loved every minute of it and would watch it again.",
          "The worst movie I have seen this year; avoid it.",
          "Some scenes drag, yet the ending is worth the wait.",
          "Brilliant direction, a sharp script and a superb cast.",
          "The dialogue is wooden and the characters are flat.",
          "A charming, funny and heartfelt story for the whole family.",
          "Not bad, not great: an average thriller with a few surprises.",
          "The special effects cannot save a boring story.",
          "An instant classic that moved me to tears.");

  @Option(
      names = "--seconds",
      defaultValue = "20",
      description = "How long to send requests (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--clients",
      defaultValue = "32",
      description = "Concurrent HTTP clients (default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(
      names = "--texts",
      description = "A file with one sample input text per line (default: built-in review texts).")
  Path textsFile;

  private final Map<String, String> environment;

  public AotTrainingCommand() {
    this(System.getenv());
  }

  AotTrainingCommand(Map<String, String> environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws Exception {
    if (seconds < 1 || clients < 1) {
      System.err.println("--seconds and --clients must be at least 1");
      return 2;
    }
    Map<String, String> env = new HashMap<>(environment);
    env.put("PORT", "0"); // never the port a real service may be using
    ServerConfig config;
    try {
      config = ServerConfig.fromEnvironment(env);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    // The same log format as the service, chosen before the first logger exists: the encoder's
    // classes belong in the cache too.
    if (config.logFormat().equals("json")) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    Logger log = LoggerFactory.getLogger(AotTrainingCommand.class);
    List<String> texts = texts();
    try (App app = App.create(config)) {
      if (!app.start()) {
        log.error("aot-training: no model could be loaded from {}", config.modelBasePath());
        return 1;
      }
      Result result =
          run(
              URI.create("http://127.0.0.1:" + app.port()),
              app.registry().modelNames(),
              texts,
              Math.min(config.batching().maxBatchSize(), config.limits().maxRows()),
              Duration.ofSeconds(seconds),
              clients);
      log.info("aot-training: {}", result.summary());
      return result.ok() ? 0 : 1;
    }
  }

  private List<String> texts() throws IOException {
    if (textsFile != null) {
      List<String> lines =
          Files.readAllLines(textsFile, StandardCharsets.UTF_8).stream()
              .filter(l -> !l.isBlank())
              .toList();
      if (lines.isEmpty()) {
        throw new IOException("no texts in " + textsFile);
      }
      return lines;
    }
    Random random = new Random(42);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int n = 1 + (i % 10 == 0 ? 20 + random.nextInt(20) : random.nextInt(4));
      StringBuilder b = new StringBuilder();
      for (int j = 0; j < n; j++) {
        b.append(j == 0 ? "" : " ").append(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
      }
      texts.add(b.toString());
    }
    return texts;
  }

  /** What the run sent and what came back. */
  record Result(long requests, long rows, Map<String, Long> unexpected) {
    boolean ok() {
      return requests > 0 && unexpected.isEmpty();
    }

    String summary() {
      return requests
          + " requests, "
          + rows
          + " rows predicted, "
          + (unexpected.isEmpty() ? "all answers as expected" : "unexpected answers " + unexpected);
    }
  }

  /**
   * Sends the mix to {@code base} for {@code duration} from {@code clients} threads and counts the
   * answers that were not the expected ones (keyed by request and status).
   */
  static Result run(
      URI base,
      Iterable<String> models,
      List<String> texts,
      int maxRows,
      Duration duration,
      int clients)
      throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    List<TrainingRequests> mixes = new ArrayList<>();
    for (String model : models) {
      HttpResponse<String> meta = get(http, base.resolve("/v2/models/" + model));
      if (meta.statusCode() != 200) {
        throw new IOException("GET /v2/models/" + model + " answered " + meta.statusCode());
      }
      JsonNode metadata = JSON.readTree(meta.body());
      mixes.add(
          new TrainingRequests(model, TrainingRequests.inputsFromV2Metadata(metadata), texts));
    }
    if (mixes.isEmpty()) {
      throw new IOException("no models to send requests to");
    }
    LongAdder requests = new LongAdder();
    LongAdder rows = new LongAdder();
    Map<String, Long> unexpected = new ConcurrentHashMap<>();
    long end = System.nanoTime() + duration.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Random random = new Random(c);
      Thread t =
          new Thread(
              () -> {
                while (System.nanoTime() < end) {
                  TrainingRequests mix = mixes.get(random.nextInt(mixes.size()));
                  try {
                    rows.add(one(http, base, mix, maxRows, random, unexpected));
                  } catch (IOException e) {
                    unexpected.merge("I/O error " + e.getClass().getSimpleName(), 1L, Long::sum);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                  requests.increment();
                }
              },
              "aot-training-" + c);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    return new Result(requests.sum(), rows.sum(), Map.copyOf(unexpected));
  }

  /** Sends one request of the mix; returns the rows it predicted. */
  private static int one(
      HttpClient http,
      URI base,
      TrainingRequests mix,
      int maxRows,
      Random random,
      Map<String, Long> unexpected)
      throws IOException, InterruptedException {
    int pick = random.nextInt(100);
    TrainingRequests.Format format =
        TrainingRequests.Format.values()[random.nextInt(TrainingRequests.Format.values().length)];
    if (pick < 90) {
      // mostly one row per request, what interactive clients send; sometimes a larger batch
      int n = pick < 75 ? 1 : pick < 87 ? 2 + random.nextInt(31) : maxRows;
      n = Math.min(n, maxRows);
      expect(
          post(http, base, mix.path(format), mix.body(format, n, random)),
          200,
          "predict",
          unexpected);
      return n;
    }
    String model = mix.model();
    switch (pick) {
      case 90 -> expect(get(http, base.resolve("/v2/health/ready")), 200, "ready", unexpected);
      case 91 -> expect(get(http, base.resolve("/v2/health/live")), 200, "live", unexpected);
      case 92 -> expect(get(http, base.resolve("/metrics")), 200, "metrics", unexpected);
      case 93 -> expect(get(http, base.resolve("/v1/models/" + model)), 200, "status", unexpected);
      case 94 ->
          expect(
              get(http, base.resolve("/v1/models/" + model + "/metadata")),
              200,
              "metadata",
              unexpected);
      case 95 ->
          expect(get(http, base.resolve("/v2/models/" + model)), 200, "v2 metadata", unexpected);
      case 96 ->
          expect(post(http, base, mix.path(format), "{not json"), 400, "bad json", unexpected);
      case 97 ->
          expect(
              post(http, base, mix.path(format), "{\"instances\": []}"),
              400,
              "empty batch",
              unexpected);
      case 98 ->
          expect(
              post(http, base, "/v1/models/no-such-model:predict", "{\"instances\": [\"x\"]}"),
              404,
              "unknown model",
              unexpected);
      default -> expect(get(http, base.resolve("/")), 200, "home page", unexpected);
    }
    return 0;
  }

  private static void expect(
      HttpResponse<String> response, int status, String what, Map<String, Long> unexpected) {
    if (response.statusCode() != status) {
      unexpected.merge(what + " answered " + response.statusCode(), 1L, Long::sum);
    }
  }

  private static HttpResponse<String> get(HttpClient http, URI uri)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(HttpClient http, URI base, String path, String body)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
