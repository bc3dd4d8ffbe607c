package dev.mlserve.predict;

import static dev.mlserve.TestSupport.metric;
import static dev.mlserve.TestSupport.post;
import static dev.mlserve.TestSupport.quote;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dynamic batching through the real HTTP server and the real model. */
class BatchingTest {
  private static final String PREDICT = "/v1/models/imdb-sentiment:predict";
  private static final String CALC = "/v1/models/calc:predict";

  /** Runs {@code clients} threads each sending {@code each} requests; returns every reply. */
  private static List<Reply> hammer(App app, int clients, int each, String body) throws Exception {
    return hammer(app, PREDICT, clients, each, body);
  }

  private static List<Reply> hammer(App app, String path, int clients, int each, String body)
      throws Exception {
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
                    replies.add(post(app, path, body.replace("CLIENT", Integer.toString(client))));
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
  void concurrentRequestsShareTensorFlowCallsAndGetTheirGoldenAnswers() throws Exception {
    List<TestSupport.Golden> cases = new ArrayList<>(TestSupport.golden().values());
    try (App app = TestSupport.startServer(Map.of("BATCH_MAX_WAIT_MICROS", "2000"))) {
      ExecutorService pool = Executors.newFixedThreadPool(32);
      try {
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < 32; c++) {
          TestSupport.Golden g = cases.get(c % cases.size());
          clients.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < 20; i++) {
                      Reply r = post(app, PREDICT, "{\"instances\": [" + quote(g.text()) + "]}");
                      assertThat(r.status()).as(r.body()).isEqualTo(200);
                      // each client's row came back to that client, whatever it was batched with
                      assertThat(r.json().at("/predictions/0/0").asDouble())
                          .as(g.text())
                          .isCloseTo(g.score(), within(TestSupport.Golden.TOLERANCE));
                    }
                    return null;
                  }));
        }
        for (Future<?> f : clients) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(metric(app, "mlserve_batch_requests_sum")).isEqualTo(640);
      assertThat(metric(app, "mlserve_batch_requests_max"))
          .as("at least one TensorFlow call served several requests")
          .isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void oneBadRowNeverFailsItsBatchMatesAtTheBatcher(@TempDir Path tmp) throws Exception {
    // calc's graph refuses negative x at run time, so bad rows pass validation, get merged with
    // good ones, fail the merged call, and the batcher must re-run each request alone.
    try (App app =
        TestSupport.startServer(
            TestSupport.fixtureModels(),
            Map.of("BATCH_MAX_WAIT_MICROS", "20000", "BATCH_WORKERS", "2"))) {
      ExecutorService pool = Executors.newFixedThreadPool(24);
      try {
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < 24; c++) {
          int client = c;
          boolean bad = c % 4 == 0;
          clients.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < 15; i++) {
                      int x = client * 100 + i;
                      String body =
                          "{\"inputs\": {\"x\": [[" + (bad ? -x - 1 : x) + ", 1, 2]], \"k\": [2]}}";
                      Reply r = post(app, CALC, body);
                      if (bad) {
                        assertThat(r.status()).as(r.body()).isEqualTo(400);
                        assertThat(r.json().get("error").asText())
                            .contains("the model rejected the input");
                      } else {
                        assertThat(r.status()).as(r.body()).isEqualTo(200);
                        assertThat(r.json().get("outputs").get(0).asDouble())
                            .isEqualTo((x + 3) * 2.0);
                      }
                    }
                    return null;
                  }));
        }
        for (Future<?> f : clients) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(metric(app, "mlserve_batch_splits_total", "model=\"calc\""))
          .as("merged calls with a bad row were split and re-run")
          .isGreaterThan(0);
      assertThat(metric(app, "mlserve_prediction_errors_total", "kind=\"model_rejected\""))
          .isEqualTo(6 * 15);
    }
  }

  @Test
  void batchesNeverExceedTheirMaxSize() throws Exception {
    try (App app =
        TestSupport.startServer(
            TestSupport.fixtureModels(),
            Map.of(
                "BATCH_MAX_SIZE", "4", "BATCH_MAX_WAIT_MICROS", "20000", "BATCH_WORKERS", "1"))) {
      hammerCalc(app, 16, 10);
      assertThat(metric(app, "mlserve_batch_rows_max", "model=\"calc\"")).isBetween(2.0, 4.0);
      assertThat(metric(app, "mlserve_batch_rows_sum", "model=\"calc\"")).isEqualTo(160);
    }
  }

  @Test
  void aLoneRequestNeverWaitsForBatchMates() {
    // a wait of 5 s would show in every request if a lone request waited for company
    try (App app =
        TestSupport.startServer(
            TestSupport.fixtureModels(), Map.of("BATCH_MAX_WAIT_MICROS", "5000000"))) {
      long start = System.nanoTime();
      for (int i = 0; i < 5; i++) {
        assertThat(post(app, CALC, "{\"inputs\": {\"x\": [[1, 2, 3]], \"k\": [1]}}").status())
            .isEqualTo(200);
      }
      assertThat((System.nanoTime() - start) / 1e9).isLessThan(5);
      assertThat(metric(app, "mlserve_batch_queue_wait_seconds_max", "model=\"calc\""))
          .isLessThan(1);
    }
  }

  @Test
  void twoModelsQueuesAreIndependent(@TempDir Path tmp) throws Exception {
    Path base = TestSupport.demoAndCalc(tmp);
    // calc's own queue holds one row and one worker serves it: it overflows under load
    Files.writeString(
        base.resolve("calc").resolve("serving.json"),
        "{\"batching\": {\"max_queue_rows\": 1, \"max_batch_size\": 1}}");
    try (App app = TestSupport.startServer(base, Map.of("BATCH_WORKERS", "1"))) {
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<List<Reply>> calc = pool.submit(() -> hammerCalc(app, 24, 15));
        Future<List<Reply>> demo =
            pool.submit(() -> hammer(app, 4, 15, "{\"instances\": [\"calm CLIENT\"]}"));
        assertThat(calc.get()).anySatisfy(r -> assertThat(r.status()).isEqualTo(503));
        assertThat(demo.get()).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
      } finally {
        pool.shutdownNow();
      }
      assertThat(metric(app, "mlserve_batch_rejected_total", "model=\"calc\"")).isPositive();
      assertThat(metric(app, "mlserve_batch_rejected_total", "model=\"imdb-sentiment\"")).isZero();
    }
  }

  /** {@code clients} threads each sending {@code each} one-row requests to calc; every reply. */
  private static List<Reply> hammerCalc(App app, int clients, int each) throws Exception {
    List<Reply> replies =
        hammer(app, CALC, clients, each, "{\"inputs\": {\"x\": [[1, 2, 3]], \"k\": [1]}}");
    for (Reply r : replies) {
      if (r.status() == 200) {
        assertThat(r.json().get("outputs").toString()).isEqualTo("[6.0]");
      }
    }
    return replies;
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
