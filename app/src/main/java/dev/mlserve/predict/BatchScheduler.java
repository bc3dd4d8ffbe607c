package dev.mlserve.predict;

import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * One {@link BatchQueue} per (model version, signature), created on first use and stopped when that
 * version closes. Queues are independent: a full or slow queue never holds up another model's.
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

  /**
   * Runs {@code inputs} through the queue of {@code model}'s {@code signature} and waits for the
   * outputs; {@code policies} gives the current policy of a model by name.
   */
  Map<String, Values> run(
      ModelVersion model,
      SignatureSpec signature,
      Map<String, Values> inputs,
      int rows,
      Function<String, ModelPolicy> policies) {
    Key key = new Key(model, signature.key());
    BatchQueue q = queues.get(key);
    if (q == null) {
      q = queues.computeIfAbsent(key, k -> open(k, policies));
    }
    return q.run(inputs, rows);
  }

  private BatchQueue open(Key k, Function<String, ModelPolicy> policies) {
    ModelVersion model = k.model();
    BatchQueue created =
        new BatchQueue(
            model,
            model.signature(k.signature()),
            () -> policies.apply(model.name()).batching(),
            workers,
            metrics.batches(model.name(), model.version()));
    model.onClose(
        () -> {
          BatchQueue gone = queues.remove(k);
          if (gone != null) {
            gone.close();
          }
        });
    return created;
  }

  @Override
  public void close() {
    queues.values().forEach(BatchQueue::close);
    queues.clear();
  }
}
