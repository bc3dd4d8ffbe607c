package dev.mlserve.predict;

import dev.mlserve.errors.ServingException;
import dev.mlserve.metrics.ServingMetrics.BatchMeters;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.PlatformCalls;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests waiting for one signature of one model version, and the worker threads that merge
 * them into TensorFlow calls. Rows are stacked along dimension 0 and the outputs split back by the
 * same offsets. When a merged call fails, each request is retried alone, so one bad request never
 * fails its batch-mates.
 *
 * <p>A worker that holds the first request of a batch while another batch is running waits for that
 * batch to finish (or for a full batch to queue up, or for the policy's maximum wait) and then
 * takes everything queued at once. It is not woken by each request that arrives meanwhile: waking a
 * thread costs more CPU than a one-text prediction's TensorFlow share, so the wake-ups are kept to
 * about two per batch instead of one per request.
 */
final class BatchQueue {
  private static final Logger log = LoggerFactory.getLogger(BatchQueue.class);

  private record Task(
      Map<String, Values> inputs,
      int rows,
      long enqueuedNanos,
      CompletableFuture<Map<String, Values>> result) {}

  private final ModelVersion model;
  private final SignatureSpec signature;
  private final Supplier<BatchPolicy> policy;
  private final BatchMeters meters;
  private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queuedRows = new AtomicInteger();
  private final AtomicInteger running = new AtomicInteger();
  // signalled when a batch finishes or a full batch is queued; guards nothing else
  private final ReentrantLock gate = new ReentrantLock();
  private final Condition progress = gate.newCondition();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean closed;

  BatchQueue(
      ModelVersion model,
      SignatureSpec signature,
      Supplier<BatchPolicy> policy,
      int workerCount,
      BatchMeters meters) {
    this.model = model;
    this.signature = signature;
    this.policy = policy;
    this.meters = meters;
    for (int i = 0; i < workerCount; i++) {
      Thread t =
          new Thread(
              this::work,
              "batch-" + model.name() + "-v" + model.version() + "-" + signature.key() + "-" + i);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
  }

  /**
   * Runs {@code inputs} merged with whatever else is queued and waits for this request's rows. The
   * caller's thread waits; the worker only completes the result and moves on to the next batch (the
   * HTTP response is written by the caller, never by a batch worker).
   *
   * @throws ServingException.Overloaded when the queue is full
   */
  Map<String, Values> run(Map<String, Values> inputs, int rows) {
    // Nothing queued and nothing running: there is nobody to batch with, so run on the caller's
    // thread and skip the hand-off to a worker. Requests arriving meanwhile queue up and see a
    // batch running, so they wait for batch-mates as usual. Not on a virtual thread: TensorFlow
    // must not run there (PlatformCalls), and parking one for a worker costs little.
    if (!PlatformCalls.onVirtualThread() && queue.isEmpty() && running.compareAndSet(0, 1)) {
      try {
        meters.queueWait(0);
        meters.call(rows, 1);
        return model.run(signature, inputs);
      } finally {
        running.decrementAndGet();
        signalProgress();
      }
    }
    CompletableFuture<Map<String, Values>> f = submit(inputs, rows);
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new ServingException.Internal("the batch failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServingException.Unavailable("interrupted while waiting for the model");
    }
  }

  /** Queues a request for the workers. */
  CompletableFuture<Map<String, Values>> submit(Map<String, Values> inputs, int rows) {
    BatchPolicy p = policy.get();
    int limit = p.maxQueueRows();
    int after = queuedRows.addAndGet(rows);
    if (after > limit && after != rows) {
      queuedRows.addAndGet(-rows);
      meters.rejected();
      throw new ServingException.Overloaded(
          "model '"
              + model.name()
              + "' is overloaded: "
              + limit
              + " rows already queued; retry later");
    }
    CompletableFuture<Map<String, Values>> f = new CompletableFuture<>();
    queue.add(new Task(inputs, rows, System.nanoTime(), f));
    int max = p.maxBatchSize();
    if (after >= max && after - rows < max) { // a waiting worker can now fill its batch
      signalProgress();
    }
    return f;
  }

  void close() {
    closed = true;
    workers.forEach(Thread::interrupt);
  }

  private void work() {
    Task carry = null;
    while (!closed || !queue.isEmpty() || carry != null) {
      try {
        Task first = carry != null ? carry : queue.poll(1, TimeUnit.SECONDS);
        carry = null;
        if (first == null) {
          continue;
        }
        queuedRows.addAndGet(-first.rows);
        BatchPolicy p = policy.get();
        List<Task> batch = new ArrayList<>();
        batch.add(first);
        int rows = first.rows;
        long deadline = first.enqueuedNanos + TimeUnit.MICROSECONDS.toNanos(p.maxWaitMicros());
        while (rows < p.maxBatchSize()) {
          Task next = queue.poll();
          if (next == null) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0 || !awaitProgress(remaining, p.maxBatchSize())) {
              break;
            }
            continue;
          }
          queuedRows.addAndGet(-next.rows);
          if (rows + next.rows > p.maxBatchSize()) {
            carry = next;
            queuedRows.addAndGet(next.rows); // still waiting; counted again when taken
            break;
          }
          batch.add(next);
          rows += next.rows;
        }
        running.incrementAndGet();
        try {
          execute(batch, rows);
        } finally {
          running.decrementAndGet();
          signalProgress();
        }
      } catch (InterruptedException e) {
        if (closed && queue.isEmpty() && carry == null) {
          return;
        }
      } catch (RuntimeException | Error e) {
        log.error("batch worker for {} failed", model, e);
      }
    }
  }

  /**
   * Waits up to {@code nanos} for batch-mates, if waiting pays: only while another batch is running
   * (a lone request goes at once) and fewer than {@code maxRows} rows wait (counting a request
   * another worker carries over, which this worker cannot take). The check and the wait are under
   * the lock that {@link #signalProgress} takes, so a batch that finishes in between is never
   * missed.
   *
   * @return whether it waited; if not, the batch should go with what it has
   */
  private boolean awaitProgress(long nanos, int maxRows) throws InterruptedException {
    gate.lock();
    try {
      if (running.get() == 0 || queuedRows.get() >= maxRows) {
        return false;
      }
      progress.awaitNanos(nanos);
      return true;
    } finally {
      gate.unlock();
    }
  }

  private void signalProgress() {
    gate.lock();
    try {
      progress.signalAll();
    } finally {
      gate.unlock();
    }
  }

  private void execute(List<Task> batch, int rows) {
    long now = System.nanoTime();
    for (Task t : batch) {
      meters.queueWait(now - t.enqueuedNanos);
    }
    meters.call(rows, batch.size());
    if (batch.size() == 1) {
      runAlone(batch.get(0));
      return;
    }
    Map<String, Values> merged = new LinkedHashMap<>();
    for (String input : signature.inputs().keySet()) {
      List<Values> parts = new ArrayList<>(batch.size());
      for (Task t : batch) {
        parts.add(t.inputs.get(input));
      }
      merged.put(input, Values.concatRows(parts));
    }
    Map<String, Values> out;
    try {
      out = model.run(signature, merged);
      for (Values v : out.values()) {
        if (v.shape().length == 0 || v.rows() != rows) {
          throw new IllegalStateException(
              "output rows " + v + " do not match " + rows + " input rows");
        }
      }
    } catch (RuntimeException e) {
      log.debug(
          "merged call of {} requests failed ({}); running them one by one",
          batch.size(),
          e.getMessage());
      meters.split();
      batch.forEach(this::runAlone);
      return;
    }
    long at = 0;
    for (Task t : batch) {
      Map<String, Values> mine = new LinkedHashMap<>();
      for (Map.Entry<String, Values> e : out.entrySet()) {
        mine.put(e.getKey(), e.getValue().sliceRows(at, at + t.rows));
      }
      at += t.rows;
      t.result.complete(mine);
    }
  }

  private void runAlone(Task t) {
    try {
      t.result.complete(model.run(signature, t.inputs));
    } catch (RuntimeException e) {
      t.result.completeExceptionally(e);
    }
  }
}
