package dev.mlserve.metrics;

import static dev.mlserve.TestSupport.post;
import static dev.mlserve.TestSupport.quote;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.App;
import dev.mlserve.PrometheusFixture;
import dev.mlserve.TestSupport;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metrics contract as a real Prometheus sees it: the service's {@code /metrics} scraped by
 * Debian's prometheus, the score histogram's buckets holding the golden scores of known texts.
 */
class PrometheusScrapeTest {
  // Golden scores (training/golden/imdb-sentiment-1.json): 0.0354, 0.0354, 0.6194, 0.9066.
  private static final String NEGATIVE =
      "This was a terrible movie. The plot made no sense, the acting was wooden and I wanted my"
          + " two hours back. Avoid it.";
  private static final String GREAT = "great movie";
  private static final String POSITIVE =
      "This movie was wonderful. The acting was superb and the story moved me to tears. One of the"
          + " best films I have seen in years.";
  private static final String SERIES = "{model=\"imdb-sentiment\",variant=\"\",version=\"1\"";

  private static App app;
  private static PrometheusFixture prometheus;

  @BeforeAll
  static void start() throws Exception {
    PrometheusFixture.requireInstalled("PrometheusScrapeTest");
    app = TestSupport.startServer(Map.of());
    for (String text : List.of(NEGATIVE, NEGATIVE, GREAT, POSITIVE)) {
      assertThat(
              post(
                      app,
                      "/v1/models/imdb-sentiment:predict",
                      "{\"instances\":[" + quote(text) + "]}")
                  .status())
          .isEqualTo(200);
    }
    prometheus = PrometheusFixture.start(List.of("127.0.0.1:" + app.port()), List.of());
    prometheus.awaitTargetsUp(1, Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    if (prometheus != null) {
      prometheus.close();
    }
    if (app != null) {
      app.close();
    }
  }

  @Test
  void scoreHistogramBucketsHoldTheGoldenScores() throws Exception {
    assertThat(value("mlserve_prediction_score_bucket" + SERIES + ",le=\"0.1\"}")).isEqualTo(2);
    assertThat(value("mlserve_prediction_score_bucket" + SERIES + ",le=\"0.6\"}")).isEqualTo(2);
    assertThat(value("mlserve_prediction_score_bucket" + SERIES + ",le=\"0.7\"}")).isEqualTo(3);
    assertThat(value("mlserve_prediction_score_bucket" + SERIES + ",le=\"0.9\"}")).isEqualTo(3);
    assertThat(value("mlserve_prediction_score_bucket" + SERIES + ",le=\"1.0\"}")).isEqualTo(4);
    assertThat(value("mlserve_prediction_score_count" + SERIES + "}")).isEqualTo(4);
  }

  @Test
  void rowCountersCarryTheVariant() throws Exception {
    assertThat(value("mlserve_predicted_rows_total" + SERIES + "}")).isEqualTo(4);
  }

  private static double value(String selector) throws Exception {
    JsonNode result = prometheus.query(selector);
    assertThat(result).as("series for %s", selector).hasSize(1);
    return result.get(0).path("value").get(1).asDouble();
  }
}
