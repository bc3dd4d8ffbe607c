package dev.mlserve.store;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** New versions in a local model folder are loaded, warmed and swapped in while serving. */
class LocalHotReloadTest {
  private static final String PREDICT = "/v1/models/imdb-sentiment:predict";
  @TempDir Path store;
  private App app;

  /** Publishes a version the way the README says: copy beside, then rename into place. */
  private void publish(long version) throws Exception {
    Path staging = store.resolve(".staging-" + version);
    TestSupport.copyTree(TestSupport.demoVersion(), staging);
    Files.move(
        staging,
        store.resolve("imdb-sentiment").resolve(Long.toString(version)),
        StandardCopyOption.ATOMIC_MOVE);
  }

  private String state(long version) {
    return TestSupport.versionState(app, "imdb-sentiment", version);
  }

  @BeforeEach
  void start() throws Exception {
    Files.createDirectories(store.resolve("imdb-sentiment"));
    publish(1);
    app = TestSupport.startServer(Map.of("MODEL_BASE_PATH", store.toString()));
  }

  @AfterEach
  void stop() {
    app.close();
  }

  @Test
  void aNewVersionIsSwappedInWithoutAFailedRequest() throws Exception {
    TestSupport.SteadyTraffic traffic =
        new TestSupport.SteadyTraffic(app, PREDICT, "{\"instances\": [\"steady traffic\"]}");
    Thread.sleep(300);
    publish(2);
    assertThat(app.refresh()).isTrue();
    Thread.sleep(300);
    traffic.close();
    List<Integer> statuses = traffic.statuses;
    List<String> versions = traffic.versions;
    assertThat(statuses).isNotEmpty().allSatisfy(s -> assertThat(s).isEqualTo(200));
    assertThat(versions).contains("1", "2");
    assertThat(versions.get(versions.size() - 1)).isEqualTo("2");
    assertThat(state(2)).startsWith("AVAILABLE");
    assertThat(state(1)).startsWith("END");
  }

  @Test
  void aCanaryOnANewVersionGetsTrafficOnlyOnceThatVersionIsLoaded() throws Exception {
    TestSupport.SteadyTraffic traffic =
        new TestSupport.SteadyTraffic(app, PREDICT, "{\"instances\": [\"steady traffic\"]}");
    Thread.sleep(300);
    // The version and the settings that send all traffic to it arrive in the same poll: while
    // version 2 loads and warms up, requests must keep going to version 1, not to a variant
    // whose version is not there yet (which would answer 404/503).
    publish(2);
    Files.writeString(
        store.resolve("imdb-sentiment").resolve("serving.json"),
        """
        {"variants": [{"name": "stable", "version": 1, "weight": 0},
                      {"name": "canary", "version": 2, "weight": 100}]}
        """);
    assertThat(app.refresh()).isTrue();
    Thread.sleep(300);
    traffic.close();
    assertThat(traffic.statuses).isNotEmpty().allSatisfy(s -> assertThat(s).isEqualTo(200));
    assertThat(traffic.versions).contains("1", "2");
    assertThat(traffic.versions.get(traffic.versions.size() - 1)).isEqualTo("2");
    assertThat(post(app, PREDICT, "{\"instances\": [\"x\"]}").header("X-Variant"))
        .isEqualTo("canary");
  }

  @Test
  void aBrokenVersionIsRefusedAndTheOldOneKeepsServing() throws Exception {
    Path broken = store.resolve(".staging-3");
    Files.createDirectories(broken.resolve("variables"));
    Files.writeString(broken.resolve("saved_model.pb"), "this is not a protobuf");
    Files.move(
        broken, store.resolve("imdb-sentiment").resolve("3"), StandardCopyOption.ATOMIC_MOVE);
    app.refresh();
    assertThat(state(3)).startsWith("END").contains("could not load");
    assertThat(state(1)).startsWith("AVAILABLE");
    Reply r = post(app, PREDICT, "{\"instances\": [\"still fine\"]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("X-Model-Version")).isEqualTo("1");
    assertThat(get(app, "/metrics").body())
        .contains(
            "mlserve_model_load_seconds_count{model=\"imdb-sentiment\",outcome=\"failed\",version=\"3\"}");
    assertThat(get(app, "/v2/health/ready").status()).isEqualTo(200);
  }

  @Test
  void aHalfCopiedVersionIsNotLoaded() throws Exception {
    Path half = store.resolve("imdb-sentiment").resolve("4");
    Files.createDirectories(half.resolve("variables"));
    Files.copy(
        TestSupport.demoVersion().resolve("variables").resolve("variables.index"),
        half.resolve("variables").resolve("variables.index"));
    app.refresh();
    assertThat(state(4)).isEqualTo("absent");
    assertThat(post(app, PREDICT, "{\"instances\": [\"x\"]}").header("X-Model-Version"))
        .isEqualTo("1");
  }
}
