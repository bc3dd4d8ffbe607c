package dev.mlserve.predict;

import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One {@link BatchQueue} per (model version, signature), created on first use and stopped when that
 * version closes.
 */
final class BatchScheduler implements AutoCloseable {
  private record Key(ModelVersion model, String signature) {}

  private final Map<Key, BatchQueue> queues = new ConcurrentHashMap<>();
  private final int workers;
  private final ServingMetrics metrics;

  BatchScheduler(int workers, ServingMetrics metrics) {
    this.workers = workers;
    this.metrics = metrics;
  }

  CompletableFuture<Map<String, Values>> submit(
      ModelVersion model,
      SignatureSpec signature,
      Map<String, Values> inputs,
      int rows,
      Supplier<BatchPolicy> policy) {
    Key key = new Key(model, signature.key());
    BatchQueue q =
        queues.computeIfAbsent(
            key,
            k -> {
              BatchQueue created = new BatchQueue(model, signature, policy, workers, metrics);
              model.onClose(
                  () -> {
                    BatchQueue gone = queues.remove(k);
                    if (gone != null) {
                      gone.close();
                    }
                  });
              return created;
            });
    return q.submit(inputs, rows);
  }

  @Override
  public void close() {
    queues.values().forEach(BatchQueue::close);
    queues.clear();
  }
}
