package dev.mlserve.capture;

import dev.mlserve.config.ServerConfig;
import dev.mlserve.metrics.ServingMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Data capture to S3, as SageMaker does it: request threads {@link #offer} records into a bounded
 * buffer and return at once; one background thread writes them as JSON-lines files under {@code
 * s3://bucket/prefix/model=<m>/date=YYYY-MM-DD/hour=HH/<uuid>.jsonl} every flush interval, or
 * sooner once a model has a full file's worth. When the buffer is full new records are dropped and
 * counted; an upload that still fails after a few tries is logged and its records counted as
 * failed. {@link #close} writes what is left, within a bounded time.
 */
public final class S3CaptureWriter implements CaptureSink {
  private static final Logger log = LoggerFactory.getLogger(S3CaptureWriter.class);

  /** How long {@link #close} waits for the last files; ECS kills the task 30 s after SIGTERM. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private static final int UPLOAD_ATTEMPTS = 3;
  private static final Duration RETRY_BACKOFF = Duration.ofMillis(500);
  private static final Duration DROP_LOG_INTERVAL = Duration.ofSeconds(10);
  private static final long TICK_NANOS = Duration.ofMillis(100).toNanos();

  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final int maxRecordsPerFile;
  private final Duration flushInterval;
  private final ServingMetrics metrics;
  private final CaptureBuffer buffer;
  private final Thread writer;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean stopping;
  private final AtomicLong droppedSinceLog = new AtomicLong();
  private final AtomicLong lastDropLog =
      new AtomicLong(System.nanoTime() - DROP_LOG_INTERVAL.toNanos());

  /**
   * Starts the writer thread.
   *
   * @param s3 the client (not closed here)
   * @param bucket the capture bucket
   * @param prefix the key prefix without slashes at either end; empty for the bucket's root
   */
  public S3CaptureWriter(
      S3Client s3,
      String bucket,
      String prefix,
      ServerConfig.Capture settings,
      ServingMetrics metrics) {
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix;
    this.maxRecordsPerFile = settings.maxRecordsPerFile();
    this.flushInterval = settings.flushInterval();
    this.metrics = metrics;
    this.buffer = new CaptureBuffer(settings.bufferRecords());
    metrics.gauge(
        "mlserve_capture_buffered", "Captured records not yet written to S3", buffer::held);
    this.writer = new Thread(this::run, "capture-writer");
    writer.setDaemon(true);
    writer.start();
    log.info(
        "capturing to s3://{}/{} (buffer {} records, files of up to {}, every {} s)",
        bucket,
        prefix,
        settings.bufferRecords(),
        maxRecordsPerFile,
        flushInterval.toSeconds());
  }

  @Override
  public void offer(CaptureRecord record) {
    if (!stopping && buffer.offer(record)) {
      metrics.count(
          "mlserve_capture_records", "Records accepted for capture", "model", record.model());
      return;
    }
    metrics.count(
        "mlserve_capture_dropped",
        "Captured records dropped: buffer full or closing",
        "model",
        record.model());
    droppedSinceLog.incrementAndGet();
    long last = lastDropLog.get();
    long now = System.nanoTime();
    // At most one line per interval: a full buffer under load must not flood the log too.
    if (now - last >= DROP_LOG_INTERVAL.toNanos() && lastDropLog.compareAndSet(last, now)) {
      log.warn(
          "capture buffer full ({} records) or closing: dropped {} record(s) since the last warning",
          buffer.capacity(),
          droppedSinceLog.getAndSet(0));
    }
  }

  private void run() {
    try {
      loop();
    } catch (RuntimeException | Error e) {
      log.error("capture writer stopped by an unexpected error; later records are dropped", e);
      stopping = true;
    }
  }

  private void loop() {
    Map<String, List<CaptureRecord>> pending = new LinkedHashMap<>();
    long nextFlush = System.nanoTime() + flushInterval.toNanos();
    while (true) {
      boolean last = stopping; // read before draining: nothing offered before close is missed
      for (CaptureRecord r : buffer.drain()) {
        pending.computeIfAbsent(r.model(), m -> new ArrayList<>()).add(r);
      }
      for (var e : pending.entrySet()) {
        if (e.getValue().size() >= maxRecordsPerFile) {
          write(e.getKey(), e.getValue(), false);
        }
      }
      if (last || System.nanoTime() - nextFlush >= 0) {
        pending.forEach((model, records) -> write(model, records, true));
        nextFlush = System.nanoTime() + flushInterval.toNanos();
      }
      pending.values().removeIf(List::isEmpty);
      if (last) {
        return;
      }
      LockSupport.parkNanos(this, Math.min(TICK_NANOS, Math.max(0, nextFlush - System.nanoTime())));
    }
  }

  /**
   * Writes a model's pending records, one file per hour partition and {@code maxRecordsPerFile};
   * unless {@code all}, only full files, leaving the rest pending. Removes what it wrote or gave
   * up.
   */
  private void write(String model, List<CaptureRecord> records, boolean all) {
    Map<Instant, List<CaptureRecord>> byHour = new TreeMap<>();
    for (CaptureRecord r : records) {
      byHour.computeIfAbsent(CaptureFormat.hourOf(r), h -> new ArrayList<>()).add(r);
    }
    List<CaptureRecord> keep = new ArrayList<>();
    for (var e : byHour.entrySet()) {
      List<CaptureRecord> hour = e.getValue();
      int i = 0;
      for (;
          i + maxRecordsPerFile <= hour.size() || (all && i < hour.size());
          i += maxRecordsPerFile) {
        List<CaptureRecord> file = hour.subList(i, Math.min(hour.size(), i + maxRecordsPerFile));
        upload(model, e.getKey(), file);
        buffer.release(file.size());
      }
      if (i < hour.size()) {
        keep.addAll(hour.subList(i, hour.size()));
      }
    }
    records.clear();
    records.addAll(keep);
  }

  private void upload(String model, Instant hour, List<CaptureRecord> records) {
    String key = CaptureFormat.key(prefix, model, hour, UUID.randomUUID());
    byte[] body;
    try {
      body = CaptureFormat.jsonLines(records);
    } catch (RuntimeException e) {
      failed(model, records.size(), key, e);
      return;
    }
    for (int attempt = 1; ; attempt++) {
      try {
        s3.putObject(
            b -> b.bucket(bucket).key(key).contentType("application/x-ndjson"),
            RequestBody.fromBytes(body));
        metrics.count("mlserve_capture_files", "Capture files written to S3", "model", model);
        metrics.count(
            "mlserve_capture_written_records",
            "Captured records written to S3",
            records.size(),
            "model",
            model);
        log.debug("wrote {} capture records to s3://{}/{}", records.size(), bucket, key);
        return;
      } catch (RuntimeException e) {
        // Only the SDK's errors are worth another try; anything else would fail the same way.
        boolean retryable = e instanceof SdkException && !Thread.currentThread().isInterrupted();
        if (attempt >= UPLOAD_ATTEMPTS || !retryable) {
          failed(model, records.size(), key, e);
          return;
        }
        log.debug(
            "capture upload to s3://{}/{} failed (attempt {}): {}",
            bucket,
            key,
            attempt,
            e.getMessage());
        LockSupport.parkNanos(RETRY_BACKOFF.toNanos() * attempt);
      }
    }
  }

  private void failed(String model, int count, String key, Exception e) {
    metrics.count(
        "mlserve_capture_failed_records",
        "Captured records that could not be written",
        count,
        "model",
        model);
    log.error(
        "could not write {} capture records to s3://{}/{} after {} attempts: {}",
        count,
        bucket,
        key,
        UPLOAD_ATTEMPTS,
        e.getMessage());
  }

  /** Writes everything still buffered, waiting at most {@link #CLOSE_TIMEOUT}, and stops. */
  @Override
  public void close() {
    if (closed.getAndSet(true)) {
      return;
    }
    stopping = true;
    LockSupport.unpark(writer);
    try {
      writer.join(CLOSE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) {
      log.error(
          "capture: {} record(s) not written within {} s of shutdown; giving up on them",
          buffer.held(),
          CLOSE_TIMEOUT.toSeconds());
      writer.interrupt();
    } else {
      log.info("capture: flushed and stopped");
    }
  }
}
