package dev.mlserve.http;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.mlserve.App;
import dev.mlserve.MotoServer;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import dev.mlserve.config.ConfigException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/**
 * API tokens on a real server with the demo model: with {@code API_TOKENS} set, every endpoint but
 * health and metrics needs {@code Authorization: Bearer <token>}; each bad credential gets a 401
 * {"error"} with a {@code WWW-Authenticate} challenge, is logged once without the token, and leaves
 * the server serving; a rotation in Secrets Manager (moto) takes effect without a restart.
 */
class BearerAuthTest {
  static final String TOKEN_A = "tok-A-0123456789abcdef0123456789";
  static final String TOKEN_B = "tok-B-fedcba9876543210fedcba9876";
  static final String WRONG = "tok-X-wrongwrongwrongwrongwrong00";
  static final String PREDICT = "/v1/models/imdb-sentiment:predict";
  static final String BODY = "{\"instances\": [\"great movie\"]}";
  static final double GREAT_MOVIE = 0.6193802356719971; // training/golden/imdb-sentiment-1.json

  static Reply predict(App app, String authorization) {
    return authorization == null
        ? post(app, PREDICT, BODY)
        : post(app, PREDICT, BODY, Map.of("Authorization", authorization));
  }

  static void expectUnauthorized(Reply r, String errorPart) {
    assertThat(r.status()).as(r.body()).isEqualTo(401);
    assertThat(r.header("Content-Type")).startsWith("application/json");
    assertThat(r.json().get("error").asText()).contains(errorPart);
    assertThat(r.header("WWW-Authenticate")).startsWith("Bearer realm=\"ml-serve-ecs\"");
  }

  /** Every log event of the whole JVM while attached, message, arguments and stack traces. */
  static final class AllLogs implements AutoCloseable {
    final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    // the request log does not add to the root's appenders in tests (logback-test.xml)
    final Logger requests = (Logger) LoggerFactory.getLogger("dev.mlserve.requests");

    AllLogs() {
      appender.start();
      root.addAppender(appender);
      requests.addAppender(appender);
    }

    String text() {
      StringBuilder all = new StringBuilder();
      synchronized (appender) { // the lock AppenderBase.doAppend holds while it adds
        for (ILoggingEvent e : appender.list) {
          all.append(e.getFormattedMessage()).append('\n');
          if (e.getArgumentArray() != null) {
            for (Object a : e.getArgumentArray()) {
              all.append(a).append('\n');
            }
          }
          for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
          }
        }
      }
      return all.toString();
    }

    long failuresLogged(int status) {
      synchronized (appender) { // the lock AppenderBase.doAppend holds while it adds
        return appender.list.stream()
            .filter(e -> e.getLoggerName().equals("dev.mlserve.requests"))
            .filter(e -> e.getFormattedMessage().contains("status=" + status))
            .count();
      }
    }

    @Override
    public void close() {
      root.detachAppender(appender);
      requests.detachAppender(appender);
    }
  }

  @Test
  void withoutTokensEveryEndpointIsOpen() {
    try (App app = TestSupport.startServer(Map.of())) {
      Reply r = predict(app, null);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json().at("/predictions/0/0").asDouble()).isCloseTo(GREAT_MOVIE, within(1e-5));
      assertThat(get(app, "/v2/models/imdb-sentiment").status()).isEqualTo(200);
      assertThat(r.header("WWW-Authenticate")).isNull();
    }
  }

  @Test
  void tokensThatAreTooShortOrOddStopTheStartWithoutBeingQuoted() {
    for (String bad : List.of("short-token", "has space?" + TOKEN_A, "tok€n-0123456789abcdef")) {
      try {
        TestSupport.config(Map.of("API_TOKENS", bad));
        throw new AssertionError("accepted API_TOKENS=" + bad);
      } catch (ConfigException e) {
        assertThat(e.getMessage()).contains("API_TOKENS: token #1").doesNotContain(bad);
      }
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithStaticTokens {
    App app;
    AllLogs logs;

    @BeforeAll
    void start() {
      logs = new AllLogs();
      app = TestSupport.startServer(Map.of("API_TOKENS", TOKEN_A + ", " + TOKEN_B));
    }

    @AfterAll
    void stop() {
      app.close();
      try {
        assertThat(logs.text())
            .as("no token, valid or not, appears in any log line")
            .doesNotContain(TOKEN_A)
            .doesNotContain(TOKEN_B)
            .doesNotContain(WRONG)
            .doesNotContain(TOKEN_A.substring(6, 22));
      } finally {
        logs.close();
      }
    }

    @Test
    void eachConfiguredTokenIsAcceptedAndTheSchemeIsCaseInsensitive() {
      for (String header : List.of("Bearer " + TOKEN_A, "Bearer " + TOKEN_B, "bearer " + TOKEN_A)) {
        Reply r = predict(app, header);
        assertThat(r.status()).as(header).isEqualTo(200);
        assertThat(r.json().at("/predictions/0/0").asDouble()).isCloseTo(GREAT_MOVIE, within(1e-5));
      }
      Reply v2 =
          post(
              app,
              "/v2/models/imdb-sentiment/infer",
              "{\"inputs\": [{\"name\": \"text\", \"shape\": [1, 1], \"datatype\": \"BYTES\","
                  + " \"data\": [\"great movie\"]}]}",
              Map.of("Authorization", "Bearer " + TOKEN_B));
      assertThat(v2.status()).isEqualTo(200);
      assertThat(v2.json().at("/outputs/0/data/0").asDouble()).isCloseTo(GREAT_MOVIE, within(1e-5));
    }

    @Test
    void a401BeforeTheBodyKeepsTheConnectionForTheNextRequest() throws Exception {
      String answers =
          BadInputTest.nextRequestAfterRefusal(
              app,
              "POST " + PREDICT,
              "Authorization: Bearer " + WRONG + "\r\n",
              "Authorization: Bearer " + TOKEN_A + "\r\n");
      assertThat(answers).startsWith("HTTP/1.1 401").contains("HTTP/1.1 200 OK");
      assertThat(answers.substring(answers.indexOf("HTTP/1.1 200"))).contains("\"predictions\"");
    }

    @ParameterizedTest(name = "[{0}] -> 401 {1}")
    @CsvSource(
        delimiter = '|',
        nullValues = "NONE",
        textBlock =
            """
            NONE                                        | missing credentials
            ''                                          | missing credentials
            Basic dXNlcjpwYXNzd29yZA==                  | must be 'Bearer <token>'
            Bearer                                      | no token after 'Bearer'
            'Bearer   '                                 | no token after 'Bearer'
            Bearer tok-A-0123456789abcdef0123456789 tok-B-fedcba9876543210fedcba9876 | exactly one token
            Bearer tok-X-wrongwrongwrongwrongwrong00    | invalid bearer token
            Bearer tok-A-0123456789abcdef012345678      | invalid bearer token
            Bearer tok-A-0123456789abcdef0123456789x    | invalid bearer token
            Bearer tok-A-0123456789abcdef0123456789!    | characters no token can have
            tok-A-0123456789abcdef0123456789            | must be 'Bearer <token>'
            Token tok-A-0123456789abcdef0123456789      | must be 'Bearer <token>'
            """)
    void badCredentialsGet401WithAChallengeAndAreLoggedOnce(String header, String error) {
      long before = logs.failuresLogged(401);
      Reply r = predict(app, header);
      expectUnauthorized(r, error);
      assertThat(r.body()).doesNotContain(TOKEN_A).doesNotContain(WRONG);
      if (error.equals("invalid bearer token")) {
        assertThat(r.header("WWW-Authenticate")).endsWith("error=\"invalid_token\"");
      }
      assertThat(logs.failuresLogged(401) - before).as("logged once").isEqualTo(1);
      assertThat(predict(app, "Bearer " + TOKEN_A).status()).as("still serving").isEqualTo(200);
    }

    @Test
    void twoAuthorizationHeadersAreRefused() {
      Reply r =
          TestSupport.send(
              HttpRequest.newBuilder(TestSupport.uri(app, PREDICT))
                  .header("Authorization", "Bearer " + TOKEN_A)
                  .header("Authorization", "Bearer " + TOKEN_B)
                  .POST(HttpRequest.BodyPublishers.ofString(BODY))
                  .build());
      expectUnauthorized(r, "send one Authorization header");
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "/",
          "/v2",
          "/v1/models/imdb-sentiment",
          "/v1/models/imdb-sentiment/metadata",
          "/v2/models/imdb-sentiment",
          "/v2/models/imdb-sentiment/versions/1",
          "/v2/models/imdb-sentiment/ready",
          "/v2/health/live/extra",
          "/no/such/endpoint"
        })
    void predictionAndMetadataEndpointsNeedAToken(String path) {
      expectUnauthorized(get(app, path), "missing credentials");
      Reply authorized =
          TestSupport.send(
              HttpRequest.newBuilder(TestSupport.uri(app, path))
                  .header("Authorization", "Bearer " + TOKEN_A)
                  .GET()
                  .build());
      assertThat(authorized.status()).as(path).isNotEqualTo(401);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/health/live", "/v2/health/ready", "/metrics"})
    void healthAndMetricsStayOpenForTheLoadBalancerAndTheSidecar(String path) {
      Reply r = get(app, path);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.header("WWW-Authenticate")).isNull();
    }
  }

  @Test
  void rotationInSecretsManagerTakesEffectWithoutARestart() throws Exception {
    try (MotoServer moto = MotoServer.start(Map.of());
        SecretsManagerClient sm =
            SecretsManagerClient.builder()
                .endpointOverride(moto.endpoint())
                .region(MotoServer.REGION)
                .credentialsProvider(moto.credentials())
                .build()) {
      String arn = sm.createSecret(b -> b.name("mlserve/api-tokens").secretString(TOKEN_A)).arn();
      // The service builds its own client from the SDK's standard settings, as in ECS; system
      // properties stand in for AWS_ENDPOINT_URL_SECRETS_MANAGER and the credentials here.
      Map<String, String> sdk =
          Map.of(
              "aws.endpointUrlSecretsManager",
              moto.endpoint().toString(),
              "aws.accessKeyId",
              MotoServer.ACCESS_KEY,
              "aws.secretAccessKey",
              MotoServer.SECRET_KEY,
              "aws.region",
              MotoServer.REGION.id());
      sdk.forEach(System::setProperty);
      try (AllLogs logs = new AllLogs();
          App app =
              TestSupport.startServer(
                  Map.of(
                      "API_TOKENS", TOKEN_A, // what ECS injects from the same secret at start
                      "API_TOKENS_SECRET_ID", arn,
                      "API_TOKENS_REFRESH_SECONDS", "1"))) {
        assertThat(predict(app, "Bearer " + TOKEN_A).status()).isEqualTo(200);
        assertThat(predict(app, "Bearer " + TOKEN_B).status()).isEqualTo(401);

        // Rotation step 1: the new token beside the old one; clients move over.
        sm.putSecretValue(b -> b.secretId(arn).secretString(TOKEN_B + "\n" + TOKEN_A));
        awaitStatus(() -> predict(app, "Bearer " + TOKEN_B).status(), 200);
        assertThat(predict(app, "Bearer " + TOKEN_A).status()).isEqualTo(200);

        // Step 2: the old token is retired.
        sm.putSecretValue(b -> b.secretId(arn).secretString(TOKEN_B));
        awaitStatus(() -> predict(app, "Bearer " + TOKEN_A).status(), 401);
        assertThat(predict(app, "Bearer " + TOKEN_B).status()).isEqualTo(200);

        // A broken secret value keeps the tokens in use (and is logged without its content).
        String broken = "not-a-list!";
        sm.putSecretValue(b -> b.secretId(arn).secretString(broken));
        awaitLog(logs, "holds no usable token list");
        assertThat(predict(app, "Bearer " + TOKEN_B).status()).isEqualTo(200);
        assertThat(logs.text())
            .doesNotContain(TOKEN_A)
            .doesNotContain(TOKEN_B)
            .doesNotContain(broken)
            .contains("API tokens reloaded from " + arn);
      } finally {
        sdk.keySet().forEach(System::clearProperty);
      }
    }
  }

  private static void awaitStatus(Supplier<Integer> status, int wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    int last = -1;
    while (System.nanoTime() < deadline) {
      last = status.get();
      if (last == wanted) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("still " + last + " after 15 s, wanted " + wanted);
  }

  private static void awaitLog(AllLogs logs, String part) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      if (logs.text().contains(part)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no log line with '" + part + "' in 15 s:\n" + logs.text());
  }
}
