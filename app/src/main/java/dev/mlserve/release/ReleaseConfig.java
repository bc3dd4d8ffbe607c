package dev.mlserve.release;

import dev.mlserve.config.ConfigException;
import dev.mlserve.store.S3Location;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The release controller's configuration, read once from the environment in the service's style:
 * every problem reported at once (exit 2). It shares the service's names ({@code MODEL_BASE_PATH},
 * {@code MODEL_CACHE_DIR}, the AWS SDK's own variables) and adds its own.
 *
 * @param models where the models and their serving.json live ({@code s3://bucket/prefix})
 * @param cacheDir where versions are downloaded for evaluation
 * @param prometheusUrl the Prometheus HTTP API base (a Prometheus server, or an Amazon Managed
 *     Prometheus workspace's {@code https://aps-workspaces.REGION.amazonaws.com/workspaces/ID})
 * @param prometheusSigV4 sign queries with SigV4 (service {@code aps}); default: on for AMP URLs
 * @param snsTopicArn where decisions are published, if anywhere
 * @param summaryFile a Markdown file the decision table is appended to (GitHub's job summary)
 * @param runUrl a link to the run that made the decision, put into notices
 */
public record ReleaseConfig(
    S3Location models,
    Path cacheDir,
    Optional<URI> prometheusUrl,
    boolean prometheusSigV4,
    Optional<String> snsTopicArn,
    Optional<Path> summaryFile,
    Optional<String> runUrl) {

  /** Reads and validates the environment; collects every problem into one exception. */
  public static ReleaseConfig fromEnvironment(Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    S3Location models = null;
    String base = value(env, "MODEL_BASE_PATH").orElse("");
    if (base.isEmpty()) {
      problems.add("MODEL_BASE_PATH is required: the s3://bucket/prefix the service polls");
    } else {
      try {
        models = S3Location.parse(base);
      } catch (IllegalArgumentException e) {
        problems.add("MODEL_BASE_PATH: " + e.getMessage() + " (releases edit serving.json in S3)");
      }
    }
    Path cache =
        Path.of(
            value(env, "MODEL_CACHE_DIR")
                .orElse(System.getProperty("java.io.tmpdir") + "/ml-serve-release"));
    Optional<URI> prometheus = Optional.empty();
    Optional<String> p = value(env, "PROMETHEUS_URL");
    if (p.isPresent()) {
      try {
        URI u = URI.create(p.get().replaceAll("/+$", ""));
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
            || u.getHost() == null) {
          throw new IllegalArgumentException("not an http(s) URL");
        }
        prometheus = Optional.of(u);
      } catch (IllegalArgumentException e) {
        problems.add("PROMETHEUS_URL must be an http(s) URL, got '" + p.get() + "'");
      }
    }
    boolean amp = prometheus.map(u -> u.getHost().startsWith("aps-workspaces.")).orElse(false);
    boolean sign = amp;
    Optional<String> s = value(env, "PROMETHEUS_SIGV4");
    if (s.isPresent()) {
      switch (s.get().toLowerCase(Locale.ROOT)) {
        case "true", "1", "yes", "on" -> sign = true;
        case "false", "0", "no", "off" -> sign = false;
        default -> problems.add("PROMETHEUS_SIGV4 must be true or false, got '" + s.get() + "'");
      }
    }
    Optional<String> topic = value(env, "RELEASE_SNS_TOPIC_ARN");
    if (topic.isPresent() && !topic.get().matches("arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:.+")) {
      problems.add("RELEASE_SNS_TOPIC_ARN must be an SNS topic ARN, got '" + topic.get() + "'");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new ReleaseConfig(
        models,
        cache,
        prometheus,
        sign,
        topic,
        value(env, "GITHUB_STEP_SUMMARY").map(Path::of),
        value(env, "RELEASE_RUN_URL"));
  }

  private static Optional<String> value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }
}
