package dev.mlserve.predict;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Dynamic batching through the real HTTP server and the real model. */
class BatchingTest {
  private static final String PREDICT = "/v1/models/imdb-sentiment:predict";

  private static double metric(App app, String name) {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? ([0-9.eE+-]+)$")
            .matcher(get(app, "/metrics").body());
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(2));
    }
    return sum;
  }

  /** Runs {@code clients} threads each sending {@code each} requests; returns every reply. */
  private static List<Reply> hammer(App app, int clients, int each, String body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<List<Reply>>> futures = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        futures.add(
            pool.submit(
                () -> {
                  List<Reply> replies = new ArrayList<>();
                  for (int i = 0; i < each; i++) {
                    replies.add(
                        post(app, PREDICT, body.replace("CLIENT", Integer.toString(client))));
                  }
                  return replies;
                }));
      }
      List<Reply> all = new ArrayList<>();
      for (Future<List<Reply>> f : futures) {
        all.addAll(f.get());
      }
      return all;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void concurrentRequestsShareTensorFlowCallsAndGetTheirOwnAnswers() throws Exception {
    try (App app = TestSupport.startServer(Map.of("BATCH_MAX_WAIT_MICROS", "2000"))) {
      double[] alone = new double[32];
      for (int c = 0; c < 32; c++) {
        alone[c] =
            post(app, PREDICT, "{\"instances\": [\"review number " + c + "\"]}")
                .json()
                .at("/predictions/0/0")
                .asDouble();
      }
      double callsBefore = metric(app, "mlserve_batch_requests_count");
      double requestsBefore = metric(app, "mlserve_batch_requests_sum");
      List<Reply> replies = hammer(app, 32, 20, "{\"instances\": [\"review number CLIENT\"]}");
      assertThat(replies).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
      // each client's rows came back to that client, whatever it was batched with (batched and
      // single calls may differ in the last float bits, as in the golden test)
      for (int i = 0; i < replies.size(); i++) {
        assertThat(replies.get(i).json().at("/predictions/0/0").asDouble())
            .isCloseTo(alone[i / 20], within(1e-5));
      }
      double calls = metric(app, "mlserve_batch_requests_count") - callsBefore;
      double requests = metric(app, "mlserve_batch_requests_sum") - requestsBefore;
      assertThat(requests).isEqualTo(640);
      assertThat(calls).as("640 requests needed fewer TensorFlow calls").isLessThan(640);
    }
  }

  @Test
  void badRequestsNeverFailTheirBatchMates() throws Exception {
    try (App app = TestSupport.startServer(Map.of())) {
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<List<Reply>> good =
            pool.submit(() -> hammer(app, 16, 15, "{\"instances\": [\"good CLIENT\"]}"));
        Future<List<Reply>> bad =
            pool.submit(() -> hammer(app, 16, 15, "{\"instances\": [[\"a\", \"b\"]]}"));
        assertThat(good.get()).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
        assertThat(bad.get()).allSatisfy(r -> assertThat(r.status()).isEqualTo(400));
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aFullQueueAnswers503AndCountsIt() throws Exception {
    try (App app =
        TestSupport.startServer(
            Map.of("BATCH_MAX_QUEUE_ROWS", "2", "BATCH_WORKERS", "1", "BATCH_MAX_SIZE", "1"))) {
      List<Reply> replies = hammer(app, 48, 10, "{\"instances\": [\"busy CLIENT\"]}");
      List<Reply> refused = replies.stream().filter(r -> r.status() == 503).toList();
      assertThat(replies).allSatisfy(r -> assertThat(r.status()).isIn(200, 503));
      assertThat(refused).isNotEmpty();
      assertThat(refused.get(0).json().get("error").asText())
          .contains("is overloaded")
          .contains("retry later");
      assertThat(metric(app, "mlserve_batch_rejected_total")).isEqualTo(refused.size());
      assertThat(post(app, PREDICT, "{\"instances\": [\"calm again\"]}").status()).isEqualTo(200);
    }
  }

  @Test
  void batchingCanBeSwitchedOff() throws Exception {
    try (App app = TestSupport.startServer(Map.of("BATCH_ENABLED", "false"))) {
      List<Reply> replies = hammer(app, 8, 5, "{\"instances\": [\"unbatched CLIENT\"]}");
      assertThat(replies).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
      assertThat(metric(app, "mlserve_batch_requests_count")).isZero();
    }
  }
}
