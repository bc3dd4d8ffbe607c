package dev.mlserve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ServerConfigTest {

  @Test
  void defaultsServeTheBundledModelsOnPort8080() {
    ServerConfig c = ServerConfig.defaults();
    assertThat(c.port()).isEqualTo(8080);
    assertThat(c.modelBasePath()).isEqualTo("models");
    assertThat(c.modelPollSeconds()).isZero();
    assertThat(c.versionPolicy().toString()).isEqualTo("latest:1");
    assertThat(c.batching().enabled()).isTrue();
    assertThat(c.capture().s3Uri()).isEmpty();
    assertThat(c.capture().samplePercent()).isZero();
    assertThat(c.lowConfidenceBand()).contains(new Band(0.4, 0.6));
    assertThat(c.logFormat()).isEqualTo("text");
    assertThat(c.modelsFromS3()).isFalse();
    assertThat(c.virtualThreads()).isTrue();
  }

  @Test
  void switchesAcceptTheSameSpellingsInEverySetting() {
    for (String on : new String[] {"true", "TRUE", "1", "yes", "On"}) {
      assertThat(ServerConfig.flag(on)).as(on).contains(true);
      assertThat(
              dev.mlserve.batch.BatchConfig.fromEnvironment(
                      Map.of(
                          "BATCH_INPUT_URI",
                          "s3://batch-data/batch/input/j/",
                          "BATCH_CSV_MULTILINE",
                          on),
                      java.util.Set.of())
                  .csvMultiline())
          .as("BATCH_CSV_MULTILINE=" + on)
          .isTrue();
    }
    for (String off : new String[] {"false", "0", "no", "OFF"}) {
      assertThat(ServerConfig.flag(off)).as(off).contains(false);
    }
    for (String neither : new String[] {"", "y", "enabled", "2"}) {
      assertThat(ServerConfig.flag(neither)).as(neither).isEmpty();
    }
    assertThatThrownBy(() -> ServerConfig.fromEnvironment(Map.of("BATCH_ENABLED", "enabled")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("BATCH_ENABLED must be true or false, got 'enabled'");
  }

  @Test
  void readsEveryVariable() {
    ServerConfig c =
        ServerConfig.fromEnvironment(
            Map.ofEntries(
                Map.entry("PORT", "9000"),
                Map.entry("MODEL_BASE_PATH", "s3://bucket/models"),
                Map.entry("MODEL_POLL_SECONDS", "30"),
                Map.entry("MODEL_VERSION_POLICY", "latest:2"),
                Map.entry("MAX_ROWS", "10"),
                Map.entry("BATCH_ENABLED", "false"),
                Map.entry("BATCH_MAX_SIZE", "32"),
                Map.entry("CAPTURE_S3_URI", "s3://bucket/capture"),
                Map.entry("CAPTURE_SAMPLE_PERCENT", "12.5"),
                Map.entry("LOW_CONFIDENCE_BAND", "0.3,0.7"),
                Map.entry("LOG_FORMAT", "JSON"),
                Map.entry("SHUTDOWN_TIMEOUT_SECONDS", "7"),
                Map.entry("HTTP_VIRTUAL_THREADS", "false")));
    assertThat(c.port()).isEqualTo(9000);
    assertThat(c.modelsFromS3()).isTrue();
    assertThat(c.modelPollSeconds()).isEqualTo(30);
    assertThat(c.versionPolicy().latestCount()).isEqualTo(2);
    assertThat(c.limits().maxRows()).isEqualTo(10);
    assertThat(c.batching().enabled()).isFalse();
    assertThat(c.batching().maxBatchSize()).isEqualTo(32);
    assertThat(c.capture().s3Uri()).contains("s3://bucket/capture");
    assertThat(c.capture().samplePercent()).isEqualTo(12.5);
    assertThat(c.lowConfidenceBand()).contains(new Band(0.3, 0.7));
    assertThat(c.logFormat()).isEqualTo("json");
    assertThat(c.shutdownTimeout().toSeconds()).isEqualTo(7);
    assertThat(c.virtualThreads()).isFalse();
  }

  @Test
  void lowConfidenceBandCanBeSwitchedOff() {
    assertThat(
            ServerConfig.fromEnvironment(Map.of("LOW_CONFIDENCE_BAND", "off")).lowConfidenceBand())
        .isEmpty();
  }

  @Test
  void reportsEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                ServerConfig.fromEnvironment(
                    Map.of(
                        "PORT", "http",
                        "MODEL_POLL_SECONDS", "-1",
                        "LOG_FORMAT", "xml",
                        "CAPTURE_S3_URI", "bucket/capture",
                        "LOW_CONFIDENCE_BAND", "0.7,0.3",
                        "BATCH_ENABLED", "maybe",
                        "MODEL_VERSION_POLICY", "newest",
                        "MODEL_BASE_PATH", "s3://Bad_Bucket/models")))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(8)
                    .anySatisfy(p -> assertThat(p).contains("MODEL_BASE_PATH must look like s3://"))
                    .anySatisfy(p -> assertThat(p).contains("PORT must be a whole number"))
                    .anySatisfy(p -> assertThat(p).contains("MODEL_POLL_SECONDS must be between"))
                    .anySatisfy(p -> assertThat(p).contains("LOG_FORMAT must be json or text"))
                    .anySatisfy(p -> assertThat(p).contains("CAPTURE_S3_URI must look like s3://"))
                    .anySatisfy(p -> assertThat(p).contains("LOW_CONFIDENCE_BAND"))
                    .anySatisfy(p -> assertThat(p).contains("BATCH_ENABLED must be true or false"))
                    .anySatisfy(p -> assertThat(p).contains("MODEL_VERSION_POLICY")));
  }

  @Test
  void captureSamplesEverythingWhenABucketIsGivenWithoutAPercentage() {
    assertThat(
            ServerConfig.fromEnvironment(Map.of("CAPTURE_S3_URI", "s3://bucket/p"))
                .capture()
                .samplePercent())
        .isEqualTo(100);
  }
}
