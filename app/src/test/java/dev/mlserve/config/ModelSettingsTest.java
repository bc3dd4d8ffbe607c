package dev.mlserve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ModelSettingsTest {
  private static ModelSettings parse(String json) {
    return ModelSettings.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsEverySetting() {
    ModelSettings s =
        parse(
            """
            {"version_policy": "latest:2",
             "labels": {"stable": 1, "canary": 2},
             "variants": [{"name": "a", "version": 1, "weight": 90},
                          {"name": "b", "model": "other", "weight": 10}],
             "sticky_header": "X-User-Id",
             "batching": {"enabled": false, "max_batch_size": 16, "max_wait_micros": 50,
                          "max_queue_rows": 100},
             "capture_sample_percent": 5,
             "low_confidence_band": [0.45, 0.55]}
            """);
    assertThat(s.versionPolicy().orElseThrow().latestCount()).isEqualTo(2);
    assertThat(s.labels()).containsEntry("stable", 1L).containsEntry("canary", 2L);
    assertThat(s.variants()).hasSize(2);
    assertThat(s.variants().get(0).version().getAsLong()).isEqualTo(1);
    assertThat(s.variants().get(1).model()).contains("other");
    assertThat(s.variants().get(1).version()).isEmpty();
    assertThat(s.stickyHeader()).contains("X-User-Id");
    assertThat(s.batching().enabled()).contains(false);
    assertThat(s.batching().maxBatchSize().getAsInt()).isEqualTo(16);
    assertThat(s.batching().maxWaitMicros().getAsLong()).isEqualTo(50);
    assertThat(s.batching().maxQueueRows().getAsInt()).isEqualTo(100);
    assertThat(s.captureSamplePercent().getAsDouble()).isEqualTo(5);
    assertThat(s.lowConfidenceBand()).contains(new Band(0.45, 0.55));
  }

  @Test
  void writesWhatItReads() {
    ModelSettings s =
        parse(
            """
            {"version_policy": "specific:1,3",
             "labels": {"stable": 1},
             "variants": [{"name": "a", "version": 1, "weight": 90},
                          {"name": "b", "model": "other", "weight": 10}],
             "batching": {"max_wait_micros": 50},
             "low_confidence_band": [0.45, 0.55]}
            """);
    String written = new String(s.toJson(), StandardCharsets.UTF_8);
    assertThat(ModelSettings.parse(s.toJson())).isEqualTo(s);
    assertThat(written)
        .contains("\"version_policy\" : \"specific:1,3\"")
        .contains("\"low_confidence_band\" : [ 0.45, 0.55 ]")
        .contains("\"max_wait_micros\" : 50")
        .doesNotContain("sticky_header")
        .doesNotContain("max_batch_size");
    assertThat(ModelSettings.parse(ModelSettings.none().toJson())).isEqualTo(ModelSettings.none());
  }

  @Test
  void emptyObjectMeansDefaults() {
    ModelSettings s = parse("{}");
    assertThat(s.labels()).isEmpty();
    assertThat(s.variants()).isEmpty();
    assertThat(s.versionPolicy()).isEmpty();
  }

  @Test
  void rejectsBadFilesWithTheReason() {
    assertThatThrownBy(() -> parse("{not json")).hasMessageContaining("not valid serving.json");
    assertThatThrownBy(() -> parse("[]")).hasMessageContaining("not valid serving.json");
    assertThatThrownBy(() -> parse("{\"labels\": {\"../x\": 1}}")).hasMessageContaining("label");
    assertThatThrownBy(() -> parse("{\"labels\": {\"stable\": 0}}"))
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> parse("{\"variants\": [{\"name\": \"a\", \"weight\": -1}]}"))
        .hasMessageContaining("weight");
    assertThatThrownBy(() -> parse("{\"variants\": [{\"name\": \"a\", \"weight\": 0}]}"))
        .hasMessageContaining("all be zero");
    assertThatThrownBy(() -> parse("{\"capture_sample_percent\": 150}"))
        .hasMessageContaining("0..100");
    assertThatThrownBy(() -> parse("{\"batching\": {\"max_batch_size\": 0}}"))
        .hasMessageContaining("max_batch_size");
    assertThatThrownBy(() -> parse("{\"low_confidence_band\": [0.7, 0.2]}"))
        .hasMessageContaining("low <= high");
    assertThatThrownBy(() -> parse("{\"low_confidence_band\": [0.2]}"))
        .hasMessageContaining("[low, high]");
    assertThatThrownBy(() -> parse("{\"variants\": [{\"name\": \"a\"}]}"))
        .hasMessageContaining("weight");
  }
}
