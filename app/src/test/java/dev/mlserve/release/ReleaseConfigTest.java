package dev.mlserve.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserve.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The controller's configuration: every problem at once, exit 2, AMP URLs signed by default. */
class ReleaseConfigTest {

  @Test
  void reportsEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                ReleaseConfig.fromEnvironment(
                    Map.of(
                        "PROMETHEUS_URL", "ftp://nowhere",
                        "PROMETHEUS_SIGV4", "maybe",
                        "RELEASE_SNS_TOPIC_ARN", "not-an-arn")))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(4)
                    .anyMatch(p -> p.startsWith("MODEL_BASE_PATH is required"))
                    .anyMatch(p -> p.startsWith("PROMETHEUS_URL must be an http(s) URL"))
                    .anyMatch(p -> p.startsWith("PROMETHEUS_SIGV4 must be true or false"))
                    .anyMatch(p -> p.startsWith("RELEASE_SNS_TOPIC_ARN must be an SNS topic ARN")));
  }

  @Test
  void signsQueriesToManagedPrometheusAndNotToOthers() {
    ReleaseConfig amp =
        ReleaseConfig.fromEnvironment(
            Map.of(
                "MODEL_BASE_PATH", "s3://models-bucket/models",
                "PROMETHEUS_URL",
                    "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234/",
                "RELEASE_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:releases"));
    assertThat(amp.prometheusSigV4()).isTrue();
    assertThat(amp.prometheusUrl().orElseThrow().toString())
        .isEqualTo("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234");
    assertThat(amp.models().bucket()).isEqualTo("models-bucket");
    ReleaseConfig local =
        ReleaseConfig.fromEnvironment(
            Map.of(
                "MODEL_BASE_PATH",
                "s3://models-bucket/models",
                "PROMETHEUS_URL",
                "http://127.0.0.1:9090"));
    assertThat(local.prometheusSigV4()).isFalse();
    assertThat(local.snsTopicArn()).isEmpty();
  }

  @Test
  void theCommandExitsWithTwoOnBadConfigurationAndUsage() {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true));
    try {
      int bad =
          ReleaseCommand.run(
              new String[] {"status", "--model", "m"},
              Map.of(),
              config -> {
                throw new AssertionError("never wired with a bad configuration");
              });
      assertThat(bad).isEqualTo(2);
      assertThat(ReleaseCommand.run(new String[] {"status"}, Map.of(), c -> null)).isEqualTo(2);
    } finally {
      System.setErr(err);
    }
    assertThat(captured.toString()).contains("MODEL_BASE_PATH is required").contains("--model");
  }

  @Test
  void aMisspelledRuleIsAnErrorNotASilentDefault() throws Exception {
    assertThatThrownBy(() -> Rules.gate(ServingFile.JSON.readTree("{\"min_acuracy\": 0.9}")))
        .hasMessageContaining("unknown rule 'min_acuracy'");
    assertThat(Rules.live(ServingFile.JSON.readTree("{\"max_psi\": 0.1}")).get("max_psi"))
        .isEqualTo(0.1);
  }

  @Test
  void quantileAndPsiMatchTheirDefinitions() {
    var buckets = new java.util.TreeMap<Double, Double>();
    buckets.put(0.01, 50.0);
    buckets.put(0.1, 90.0);
    buckets.put(1.0, 100.0);
    buckets.put(Double.POSITIVE_INFINITY, 100.0);
    // rank 99 of 100 falls in (0.1, 1.0] holding ranks 91..100: 0.1 + 0.9 * 9/10
    assertThat(LiveJudge.quantile(0.99, buckets))
        .isCloseTo(0.91, org.assertj.core.data.Offset.offset(1e-9));
    double[] half = {0.5, 0.5};
    assertThat(LiveMetrics.psi(half, half)).isZero();
    // (0.9-0.5) ln(0.9/0.5) + (0.1-0.5) ln(0.1/0.5) = 0.2351 + 0.6438
    assertThat(LiveMetrics.psi(half, new double[] {0.9, 0.1}))
        .isCloseTo(0.8789, org.assertj.core.data.Offset.offset(1e-4));
  }
}
