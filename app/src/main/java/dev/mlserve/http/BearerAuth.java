package dev.mlserve.http;

import dev.mlserve.config.ServerConfig;
import dev.mlserve.errors.ServingException;
import io.javalin.http.Context;
import io.javalin.http.UnauthorizedResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/**
 * Bearer-token authentication of every endpoint except health and metrics, when tokens are
 * configured ({@code API_TOKENS}, {@code API_TOKENS_SECRET_ID}). Tokens are compared as SHA-256
 * digests with {@link MessageDigest#isEqual} against every accepted token, so neither the content
 * nor the length of a guess shows in the time it takes. No token, good or bad, is ever logged or
 * echoed: errors name the problem, never the value.
 *
 * <p>With a secret id, the secret is re-read every refresh interval (a rotation takes effect
 * without a restart); a secret that cannot be read or holds no usable token keeps the tokens in
 * use.
 */
public final class BearerAuth implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BearerAuth.class);

  /** The realm in {@code WWW-Authenticate}. */
  static final String REALM = "ml-serve-ecs";

  /**
   * Open without a token: what the ALB target group ({@code /v2/health/ready}) and the container
   * health check ({@code /v2/health/live}) call, and the Prometheus scrape of the sidecar. Exact
   * paths: anything else, including unknown paths, needs a token.
   */
  static final Set<String> OPEN_PATHS = Set.of("/v2/health/live", "/v2/health/ready", "/metrics");

  private static final Pattern TOKEN68 = Pattern.compile("[A-Za-z0-9._~+/-]+=*");
  private static final String CHALLENGE = "Bearer realm=\"" + REALM + "\"";

  private final boolean enabled;
  private final Optional<String> secretId;
  private final Supplier<String> secretReader;
  private final AutoCloseable client;
  private final ScheduledExecutorService refresher;
  private volatile List<byte[]> digests;

  /**
   * @param settings the configured tokens and secret
   * @param secretReader returns the secret's current text (used only with a secret id)
   * @param client closed with this object (the reader's SDK client), or null
   */
  BearerAuth(ServerConfig.Auth settings, Supplier<String> secretReader, AutoCloseable client) {
    this.enabled = settings.enabled();
    this.secretId = settings.secretId();
    this.secretReader = secretReader;
    this.client = client;
    this.digests = settings.tokens().stream().map(BearerAuth::sha256).toList();
    if (secretId.isPresent()) {
      refresh();
      long every = settings.refreshInterval().toMillis();
      refresher =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "api-token-refresh");
                t.setDaemon(true);
                return t;
              });
      refresher.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    } else {
      refresher = null;
    }
    if (enabled) {
      log.info(
          "API authentication on: {} token(s){}",
          digests.size(),
          secretId
              .map(s -> ", re-read from " + s + " every " + settings.refreshInterval())
              .orElse(""));
    }
  }

  /**
   * Authentication as configured; with a secret id, the secret is read with an AWS SDK client from
   * the environment ({@code AWS_REGION}, which the task definition sets, the credentials chain,
   * {@code AWS_ENDPOINT_URL_SECRETS_MANAGER}).
   */
  public static BearerAuth create(ServerConfig.Auth settings) {
    if (settings.secretId().isEmpty()) {
      return new BearerAuth(settings, () -> "", null);
    }
    SecretsManagerClient sm =
        SecretsManagerClient.builder()
            .httpClientBuilder(
                ApacheHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(3))
                    .socketTimeout(Duration.ofSeconds(10)))
            .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD))
            .build();
    String id = settings.secretId().get();
    return new BearerAuth(
        settings, () -> sm.getSecretValue(r -> r.secretId(id)).secretString(), sm);
  }

  /** Javalin before-handler: returns when the request may proceed, else throws a 401. */
  public void check(Context ctx) {
    if (!enabled || OPEN_PATHS.contains(ctx.path())) {
      return;
    }
    List<String> headers = Collections.list(ctx.req().getHeaders("Authorization"));
    if (headers.isEmpty() || headers.get(0).isBlank()) {
      throw unauthorized(
          ctx, "missing credentials: send the header 'Authorization: Bearer <token>'", null);
    }
    if (headers.size() > 1) {
      throw unauthorized(ctx, "send one Authorization header, not " + headers.size(), null);
    }
    String header = headers.get(0).strip();
    int space = header.indexOf(' ');
    String scheme = space < 0 ? header : header.substring(0, space);
    if (!scheme.equalsIgnoreCase("Bearer")) {
      // The scheme is not echoed: a client that sends its bare token would see it in the answer.
      throw unauthorized(
          ctx,
          "the Authorization header must be 'Bearer <token>'; other schemes are refused",
          null);
    }
    String credentials = space < 0 ? "" : header.substring(space + 1).strip();
    if (credentials.isEmpty()) {
      throw unauthorized(ctx, "no token after 'Bearer'", null);
    }
    if (credentials.split("\\s+").length > 1) {
      throw unauthorized(ctx, "send exactly one token after 'Bearer'", null);
    }
    if (!TOKEN68.matcher(credentials).matches()) {
      throw unauthorized(ctx, "the bearer token has characters no token can have", null);
    }
    List<byte[]> accepted = digests;
    if (accepted.isEmpty()) {
      throw new ServingException.Unavailable(
          "authentication is on but no token could be loaded yet from the configured secret");
    }
    byte[] presented = sha256(credentials);
    boolean match = false;
    for (byte[] d : accepted) {
      match |= MessageDigest.isEqual(d, presented); // no early exit: every token is compared
    }
    if (!match) {
      throw unauthorized(ctx, "invalid bearer token", "invalid_token");
    }
  }

  /**
   * Re-reads the secret once; returns whether the accepted tokens are now the secret's. Failures
   * keep the tokens in use and are logged without any secret content.
   */
  boolean refresh() {
    String id = secretId.orElseThrow();
    String text;
    try {
      text = secretReader.get();
    } catch (RuntimeException e) { // the SDK's errors name the secret and the cause, not its value
      log.warn(
          "cannot read API tokens from {} ({}); keeping the {} token(s) in use",
          id,
          e.toString(),
          digests.size());
      return false;
    }
    List<String> tokens;
    try {
      tokens = ServerConfig.Auth.parseTokens(text == null ? "" : text);
    } catch (IllegalArgumentException e) {
      log.warn(
          "secret {} holds no usable token list ({}); keeping the {} token(s) in use",
          id,
          e.getMessage(),
          digests.size());
      return false;
    }
    List<byte[]> fresh = tokens.stream().map(BearerAuth::sha256).toList();
    if (!sameTokens(fresh, digests)) {
      log.info("API tokens reloaded from {}: {} token(s) accepted", id, fresh.size());
    }
    digests = fresh;
    return true;
  }

  private static boolean sameTokens(List<byte[]> a, List<byte[]> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!MessageDigest.isEqual(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static UnauthorizedResponse unauthorized(Context ctx, String message, String error) {
    ctx.header(
        "WWW-Authenticate", error == null ? CHALLENGE : CHALLENGE + ", error=\"" + error + "\"");
    return new UnauthorizedResponse(message);
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  @Override
  public void close() {
    if (refresher != null) {
      refresher.shutdownNow();
    }
    if (client != null) {
      try {
        client.close();
      } catch (Exception e) {
        log.debug("closing the Secrets Manager client: {}", e.toString());
      }
    }
  }
}
