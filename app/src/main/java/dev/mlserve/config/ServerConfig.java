package dev.mlserve.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the service reads from its environment, parsed and validated once at start. Nothing
 * else in the service calls {@code System.getenv}: tests build this record from a map.
 *
 * @param port HTTP port ({@code PORT})
 * @param modelBasePath a folder or {@code s3://bucket/prefix} holding {@code <model>/<version>/}
 * @param modelCacheDir where S3 models are downloaded to
 * @param modelPollSeconds how often the model store is checked for new versions; 0 = load once
 * @param versionPolicy which versions to serve by default
 * @param limits request limits
 * @param batching dynamic batching defaults (a model's serving.json may override them)
 * @param capture data capture settings
 * @param lowConfidenceBand scores inside this band are flagged low-confidence; empty = off
 * @param logFormat {@code json} or {@code text}
 * @param shutdownTimeout how long in-flight requests may take to finish after SIGTERM
 * @param tensorFlow TensorFlow session thread pools
 * @param auth bearer-token authentication of the prediction and metadata endpoints
 * @param virtualThreads HTTP requests run on virtual threads where the JVM has them (Java 21+); on
 *     by default. TensorFlow itself never runs on one: calls made there go to the batch workers or
 *     to a pool of platform threads ({@code model.PlatformCalls}), because virtual threads that
 *     called TensorFlow Java themselves deadlocked the service (docs/BENCHMARKS.md)
 */
public record ServerConfig(
    int port,
    String modelBasePath,
    Path modelCacheDir,
    int modelPollSeconds,
    VersionPolicy versionPolicy,
    Limits limits,
    Batching batching,
    Capture capture,
    Optional<Band> lowConfidenceBand,
    String logFormat,
    Duration shutdownTimeout,
    TensorFlow tensorFlow,
    Auth auth,
    boolean virtualThreads) {

  /** Request limits. */
  public record Limits(long maxBodyBytes, int maxRows, int maxTextChars) {}

  /** Dynamic batching settings. */
  public record Batching(
      boolean enabled, int maxBatchSize, long maxWaitMicros, int maxQueueRows, int workers) {}

  /** Data capture settings; {@code s3Uri} empty means capture is off. */
  public record Capture(
      Optional<String> s3Uri,
      double samplePercent,
      int bufferRecords,
      int maxRecordsPerFile,
      Duration flushInterval) {}

  /**
   * TensorFlow's session thread pools for every loaded model (0 = TensorFlow's choice, one thread
   * per core). The batch workers already run calls side by side, so each call gets one thread of
   * each by default: docs/BENCHMARKS.md has the measurement.
   */
  public record TensorFlow(int intraOpThreads, int interOpThreads) {}

  /**
   * Bearer-token authentication. Off when no token and no secret is configured. The tokens are
   * secrets: {@link #toString} and every error message leave them out.
   *
   * @param tokens the accepted tokens ({@code API_TOKENS}, injected by ECS from Secrets Manager)
   * @param secretId a Secrets Manager secret re-read every {@code refreshInterval} for rotation
   *     without a restart ({@code API_TOKENS_SECRET_ID}); empty = the tokens never change
   * @param refreshInterval how often the secret is re-read ({@code API_TOKENS_REFRESH_SECONDS})
   */
  public record Auth(List<String> tokens, Optional<String> secretId, Duration refreshInterval) {
    /** Shortest token accepted: 16 characters (about 96 bits when random). */
    public static final int MIN_TOKEN_CHARS = 16;

    private static final java.util.regex.Pattern TOKEN68 =
        java.util.regex.Pattern.compile("[A-Za-z0-9._~+/-]+=*");

    public Auth {
      tokens = List.copyOf(tokens);
    }

    /** No authentication. */
    public static Auth off() {
      return new Auth(List.of(), Optional.empty(), Duration.ofMinutes(5));
    }

    public boolean enabled() {
      return !tokens.isEmpty() || secretId.isPresent();
    }

    /**
     * Splits a token list (separated by commas, spaces or newlines: a secret may hold the new and
     * the old token during a rotation). Throws without quoting any token.
     */
    public static List<String> parseTokens(String text) {
      List<String> tokens = new ArrayList<>();
      int position = 0;
      for (String t : text.split("[,\\s]+")) {
        if (t.isEmpty()) {
          continue;
        }
        position++;
        if (t.length() < MIN_TOKEN_CHARS || t.length() > 4096) {
          throw new IllegalArgumentException(
              "token #"
                  + position
                  + " has "
                  + t.length()
                  + " characters; tokens need "
                  + MIN_TOKEN_CHARS
                  + " to 4096");
        }
        if (!TOKEN68.matcher(t).matches()) {
          throw new IllegalArgumentException(
              "token #" + position + " has characters outside A-Z a-z 0-9 - . _ ~ + / =");
        }
        tokens.add(t);
      }
      if (tokens.isEmpty()) {
        throw new IllegalArgumentException("no token in it");
      }
      return List.copyOf(tokens);
    }

    @Override
    public String toString() {
      return "Auth[tokens="
          + tokens.size()
          + " (hidden), secretId="
          + secretId.orElse("-")
          + ", refreshInterval="
          + refreshInterval
          + "]";
    }
  }

  /** The defaults: the bundled demo models on port 8080. */
  public static ServerConfig defaults() {
    return fromEnvironment(Map.of());
  }

  /** Reads and validates the configuration; collects every problem into one message. */
  public static ServerConfig fromEnvironment(Map<String, String> env) {
    EnvReader r = new EnvReader(env);
    int port = r.integer("PORT", 8080, 0, 65535);
    String base = r.string("MODEL_BASE_PATH", "models");
    Path cache =
        Path.of(
            r.string("MODEL_CACHE_DIR", System.getProperty("java.io.tmpdir") + "/ml-serve-models"));
    int poll = r.integer("MODEL_POLL_SECONDS", 0, 0, 86_400);
    VersionPolicy policy = r.parsed("MODEL_VERSION_POLICY", "latest", VersionPolicy::parse);
    Limits limits =
        new Limits(
            r.integer("MAX_BODY_BYTES", 4 * 1024 * 1024, 1024, Integer.MAX_VALUE),
            r.integer("MAX_ROWS", 1024, 1, 1_000_000),
            r.integer("MAX_TEXT_CHARS", 100_000, 1, 100_000_000));
    Batching batching =
        new Batching(
            r.bool("BATCH_ENABLED", true),
            r.integer("BATCH_MAX_SIZE", 256, 1, 1_000_000),
            r.integer("BATCH_MAX_WAIT_MICROS", 1000, 0, 10_000_000),
            r.integer("BATCH_MAX_QUEUE_ROWS", 8192, 1, 100_000_000),
            r.integer(
                "BATCH_WORKERS", Math.max(2, Runtime.getRuntime().availableProcessors()), 1, 256));
    if (base.startsWith("s3://") && !isS3Uri(base)) {
      r.problem(
          "MODEL_BASE_PATH must look like s3://bucket/prefix with a valid bucket name, got '"
              + base
              + "'");
    }
    Optional<String> captureUri = r.optional("CAPTURE_S3_URI");
    captureUri.ifPresent(
        u -> {
          if (!isS3Uri(u)) {
            r.problem("CAPTURE_S3_URI must look like s3://bucket/prefix, got '" + u + "'");
          }
        });
    Capture capture =
        new Capture(
            captureUri,
            r.decimal("CAPTURE_SAMPLE_PERCENT", captureUri.isPresent() ? 100 : 0, 0, 100),
            r.integer("CAPTURE_BUFFER_RECORDS", 10_000, 1, 10_000_000),
            r.integer("CAPTURE_MAX_RECORDS_PER_FILE", 1_000, 1, 1_000_000),
            Duration.ofSeconds(r.integer("CAPTURE_FLUSH_SECONDS", 30, 1, 3600)));
    String bandText = r.string("LOW_CONFIDENCE_BAND", "0.4,0.6");
    Optional<Band> band =
        bandText.isBlank() || bandText.equalsIgnoreCase("off")
            ? Optional.empty()
            : Optional.ofNullable(r.parsed("LOW_CONFIDENCE_BAND", bandText, Band::parse));
    String logFormat = r.string("LOG_FORMAT", "text").toLowerCase(Locale.ROOT);
    if (!logFormat.equals("json") && !logFormat.equals("text")) {
      r.problem("LOG_FORMAT must be json or text, got '" + logFormat + "'");
    }
    Duration shutdown = Duration.ofSeconds(r.integer("SHUTDOWN_TIMEOUT_SECONDS", 20, 0, 3600));
    TensorFlow tensorFlow =
        new TensorFlow(
            r.integer("TF_INTRA_OP_THREADS", 1, 0, 1024),
            r.integer("TF_INTER_OP_THREADS", 1, 0, 1024));
    Auth auth =
        new Auth(
            r.optional("API_TOKENS")
                .map(t -> r.parsed("API_TOKENS", t, Auth::parseTokens))
                .orElse(List.of()),
            r.optional("API_TOKENS_SECRET_ID"),
            Duration.ofSeconds(r.integer("API_TOKENS_REFRESH_SECONDS", 300, 1, 86_400)));
    boolean virtualThreads = r.bool("HTTP_VIRTUAL_THREADS", true);
    r.failIfProblems();
    return new ServerConfig(
        port,
        base,
        cache,
        poll,
        policy,
        limits,
        batching,
        capture,
        band,
        logFormat,
        shutdown,
        tensorFlow,
        auth,
        virtualThreads);
  }

  private static final java.util.regex.Pattern S3_URI =
      java.util.regex.Pattern.compile("s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?");

  /** {@code s3://bucket[/prefix]} with a bucket name S3 accepts. */
  static boolean isS3Uri(String uri) {
    return S3_URI.matcher(uri).matches() && !uri.contains("..");
  }

  /** True when the models come from S3 rather than a folder. */
  public boolean modelsFromS3() {
    return modelBasePath.startsWith("s3://");
  }

  /**
   * A switch's value as every setting reads it: true/1/yes/on or false/0/no/off, any case; empty
   * for anything else.
   */
  public static Optional<Boolean> flag(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> Optional.of(true);
      case "false", "0", "no", "off" -> Optional.of(false);
      default -> Optional.empty();
    };
  }

  /** Reads typed values and remembers every problem, so one start shows them all. */
  private static final class EnvReader {
    private final Map<String, String> env;
    private final List<String> problems = new ArrayList<>();

    EnvReader(Map<String, String> env) {
      this.env = env;
    }

    Optional<String> optional(String name) {
      String v = env.get(name);
      return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    String string(String name, String fallback) {
      return optional(name).orElse(fallback);
    }

    int integer(String name, int fallback, int min, int max) {
      Optional<String> v = optional(name);
      if (v.isEmpty()) {
        return fallback;
      }
      try {
        int n = Integer.parseInt(v.get());
        if (n < min || n > max) {
          problem(name + " must be between " + min + " and " + max + ", got " + n);
          return fallback;
        }
        return n;
      } catch (NumberFormatException e) {
        problem(name + " must be a whole number, got '" + v.get() + "'");
        return fallback;
      }
    }

    double decimal(String name, double fallback, double min, double max) {
      Optional<String> v = optional(name);
      if (v.isEmpty()) {
        return fallback;
      }
      try {
        double n = Double.parseDouble(v.get());
        if (!(n >= min && n <= max)) {
          problem(name + " must be between " + min + " and " + max + ", got " + v.get());
          return fallback;
        }
        return n;
      } catch (NumberFormatException e) {
        problem(name + " must be a number, got '" + v.get() + "'");
        return fallback;
      }
    }

    boolean bool(String name, boolean fallback) {
      Optional<String> v = optional(name);
      if (v.isEmpty()) {
        return fallback;
      }
      Optional<Boolean> b = flag(v.get());
      if (b.isEmpty()) {
        problem(name + " must be true or false, got '" + v.get() + "'");
      }
      return b.orElse(fallback);
    }

    <T> T parsed(String name, String fallback, java.util.function.Function<String, T> parser) {
      String text = string(name, fallback);
      try {
        return parser.apply(text);
      } catch (RuntimeException e) {
        problem(name + ": " + e.getMessage());
        return null;
      }
    }

    void problem(String message) {
      problems.add(message);
    }

    void failIfProblems() {
      if (!problems.isEmpty()) {
        throw new ConfigException(problems);
      }
    }
  }
}
