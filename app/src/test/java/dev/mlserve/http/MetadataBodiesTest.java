package dev.mlserve.http;

import static dev.mlserve.TestSupport.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Model status and metadata bodies byte for byte, for the demo model (with its model card) and the
 * numeric fixture model (several signatures, a multi-input one, a tensor without a batch
 * dimension). The golden files in {@code golden/metadata/} are what TensorFlow Serving's and the V2
 * protocol's clients parse; any change to them is a wire change. Signatures are listed in the
 * loader's order (serving_default first) in every run.
 */
class MetadataBodiesTest {
  private static App demo;
  private static App fixtures;

  @BeforeAll
  static void start() {
    demo = TestSupport.startServer(Map.of());
    fixtures = TestSupport.startServer(TestSupport.fixtureModels(), Map.of());
  }

  @AfterAll
  static void stop() {
    demo.close();
    fixtures.close();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "demo, /v1/models/imdb-sentiment, tf-status-demo.json",
    "demo, /v1/models/imdb-sentiment/versions/1, tf-status-demo.json",
    "demo, /v1/models/imdb-sentiment/metadata, tf-metadata-demo.json",
    "demo, /v1/models/imdb-sentiment/versions/1/metadata, tf-metadata-demo.json",
    "demo, /v2/models/imdb-sentiment, v2-metadata-demo.json",
    "demo, /v2/models/imdb-sentiment/versions/1, v2-metadata-demo.json",
    "fixtures, /v1/models/calc, tf-status-calc.json",
    "fixtures, /v1/models/calc/metadata, tf-metadata-calc.json",
    "fixtures, /v2/models/calc, v2-metadata-calc.json",
  })
  void answersTheGoldenBody(String server, String path, String golden) throws IOException {
    Reply r = get(server.equals("demo") ? demo : fixtures, path);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(r.body()).isEqualTo(golden(golden));
  }

  private static String golden(String name) throws IOException {
    try (InputStream in =
        MetadataBodiesTest.class.getResourceAsStream("/golden/metadata/" + name)) {
      assertThat(in).as("golden/metadata/" + name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
  }
}
