package dev.mlserve.predict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.TestSupport;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.model.DType;
import dev.mlserve.model.ModelLoader;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batch queue itself, on the real test model: order and answers under a backlog, and a worker
 * that waits for batch-mates is woken when the running batch ends.
 */
class BatchQueueTest {
  private static ModelVersion calc;

  @BeforeAll
  static void load() {
    calc = ModelLoader.load("calc", 1, TestSupport.fixtureModels().resolve("calc/1"));
  }

  @AfterAll
  static void close() {
    calc.close();
  }

  private static Map<String, Values> row(float x) {
    return Map.of(
        "x", new Values(DType.FLOAT, new long[] {1, 3}, new float[] {x, 0, 0}),
        "k", new Values(DType.INT64, new long[] {1}, new long[] {1}));
  }

  private static List<Integer> runBacklog(int maxBatchSize) throws Exception {
    SignatureSpec spec = calc.signature("");
    BatchQueue q =
        new BatchQueue(
            calc,
            spec,
            () -> new BatchPolicy(true, maxBatchSize, 0, 10_000),
            1,
            new ServingMetrics().batches("calc", 1));
    try {
      List<Integer> completed = Collections.synchronizedList(new ArrayList<>());
      List<CompletableFuture<Map<String, Values>>> futures = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        int n = i;
        CompletableFuture<Map<String, Values>> f = q.submit(row(n), 1);
        futures.add(f.whenComplete((out, e) -> completed.add(n)));
      }
      for (int i = 0; i < futures.size(); i++) {
        assertThat(futures.get(i).get().get("total").number(0)).isEqualTo(i);
      }
      return completed;
    } finally {
      q.close();
    }
  }

  @Test
  void oneWorkerAnswersABacklogInArrivalOrder() throws Exception {
    List<Integer> order = runBacklog(1);
    assertThat(order).isSorted().hasSize(200);
  }

  @Test
  void mergedBatchesKeepArrivalOrderAndGiveEachItsOwnRows() throws Exception {
    List<Integer> order = runBacklog(8);
    assertThat(order).isSorted().hasSize(200);
  }

  @Test
  void aWaitingBatchGoesWhenTheRunningOneEndsNotAtItsMaxWait() throws Exception {
    // A 60 s maximum wait: a worker that held a request while another batch ran and slept until
    // its deadline instead of being woken would hold 400 requests from 8 callers for minutes.
    BatchQueue q =
        new BatchQueue(
            calc,
            calc.signature(""),
            () -> new BatchPolicy(true, 8, 60_000_000, 10_000),
            2,
            new ServingMetrics().batches("calc", 1));
    ExecutorService callers = Executors.newFixedThreadPool(8);
    try {
      List<Future<Double>> answers = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        float x = i;
        answers.add(callers.submit(() -> q.run(row(x), 1).get("total").number(0)));
      }
      for (int i = 0; i < answers.size(); i++) {
        assertThat(answers.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i);
      }
    } finally {
      callers.shutdownNow();
      q.close();
    }
  }
}
