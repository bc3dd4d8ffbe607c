package dev.mlserve.predict;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A/B variants and version labels from serving.json, changed without a restart. */
class VariantsAndLabelsTest {
  private static final String PREDICT = "/v1/models/imdb-sentiment:predict";
  private static final String BODY = "{\"instances\": [\"a fine film\"]}";
  @TempDir Path store;
  private App app;

  private void settings(String json) throws Exception {
    Files.writeString(store.resolve("imdb-sentiment").resolve("serving.json"), json);
  }

  @BeforeEach
  void start() throws Exception {
    Path model = store.resolve("imdb-sentiment");
    TestSupport.copyTree(TestSupport.demoVersion(), model.resolve("1"));
    TestSupport.copyTree(TestSupport.demoVersion(), model.resolve("2"));
    settings(
        """
        {"labels": {"stable": 1, "canary": 2},
         "variants": [{"name": "control", "version": 1, "weight": 50},
                      {"name": "treatment", "version": 2, "weight": 50}],
         "sticky_header": "X-User-Id"}
        """);
    app = TestSupport.startServer(Map.of("MODEL_BASE_PATH", store.toString()));
  }

  @AfterEach
  void stop() {
    app.close();
  }

  @Test
  void labelsNameVersions() {
    assertThat(
            post(app, "/v1/models/imdb-sentiment/labels/canary:predict", BODY)
                .header("X-Model-Version"))
        .isEqualTo("2");
    assertThat(
            post(app, "/v1/models/imdb-sentiment/labels/stable:predict", BODY)
                .header("X-Model-Version"))
        .isEqualTo("1");
    assertThat(
            get(app, "/v1/models/imdb-sentiment/labels/canary")
                .json()
                .at("/model_version_status/0/version")
                .asText())
        .isEqualTo("2");
  }

  @Test
  void variantsSplitTrafficAndSayWhichServed() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 60; i++) {
      Reply r = post(app, PREDICT, BODY);
      String variant = r.header("X-Variant");
      seen.add(variant);
      assertThat(r.header("X-Model-Version")).isEqualTo(variant.equals("control") ? "1" : "2");
    }
    assertThat(seen).containsExactlyInAnyOrder("control", "treatment");
    Reply v2 =
        post(
            app,
            "/v2/models/imdb-sentiment/infer",
            "{\"inputs\": [{\"name\": \"text\", \"shape\": [1, 1], \"datatype\": \"BYTES\", \"data\": [\"ok\"]}]}");
    assertThat(v2.json().at("/parameters/variant").asText()).isIn("control", "treatment");
    assertThat(get(app, "/metrics").body())
        .contains("variant=\"treatment\"")
        .contains("variant=\"control\"");
  }

  @Test
  void stickyHeaderKeepsAUserOnOneVariant() {
    for (int u = 0; u < 10; u++) {
      Map<String, String> user = Map.of("X-User-Id", "user-" + u);
      String first = post(app, PREDICT, BODY, user).header("X-Variant");
      for (int i = 0; i < 10; i++) {
        assertThat(post(app, PREDICT, BODY, user).header("X-Variant")).isEqualTo(first);
      }
    }
  }

  @Test
  void anExplicitVersionBypassesRouting() {
    Reply r = post(app, "/v1/models/imdb-sentiment/versions/2:predict", BODY);
    assertThat(r.header("X-Model-Version")).isEqualTo("2");
    assertThat(r.header("X-Variant")).isNull();
  }

  @Test
  void weightsChangeWithoutARestart() throws Exception {
    settings(
        """
        {"variants": [{"name": "control", "version": 1, "weight": 100},
                      {"name": "treatment", "version": 2, "weight": 0}],
         "version_policy": "all"}
        """);
    app.refresh();
    for (int i = 0; i < 30; i++) {
      assertThat(post(app, PREDICT, BODY).header("X-Variant")).isEqualTo("control");
    }
  }

  @Test
  void anInvalidSettingsFileKeepsThePreviousSettings() throws Exception {
    settings("{\"variants\": [{\"name\": \"x\", \"weight\": -5}]}");
    app.refresh();
    assertThat(post(app, PREDICT, BODY).header("X-Variant")).isIn("control", "treatment");
    assertThat(get(app, "/metrics").body())
        .contains("mlserve_settings_errors_total{model=\"imdb-sentiment\"} 1.0");
  }
}
