package dev.mlserve.batch;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a part's progress at a steady interval: rows done, bytes read of the range (the row total is
 * not known before the end), rows/s and an ETA from the bytes still to read.
 */
final class Progress implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Progress.class);

  final AtomicLong rows = new AtomicLong();
  final AtomicLong bytes = new AtomicLong();
  private final String part;
  private final long totalBytes;
  private final long start = System.nanoTime();
  private final ScheduledExecutorService timer;

  Progress(String part, long totalBytes, long intervalMillis) {
    this.part = part;
    this.totalBytes = totalBytes;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "batch-progress");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(this::report, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
  }

  double seconds() {
    return (System.nanoTime() - start) / 1e9;
  }

  private void report() {
    double s = seconds();
    long done = rows.get();
    long b = Math.min(bytes.get(), totalBytes);
    double rate = done / Math.max(s, 1e-9);
    double fraction = totalBytes == 0 ? 1 : (double) b / totalBytes;
    String eta = fraction <= 0 ? "unknown" : String.format("%.0f s", s / fraction - s);
    log.info(
        "part {}: {} rows, {}% of {} bytes, {} rows/s, ETA {}",
        part,
        done,
        String.format("%.1f", 100 * fraction),
        totalBytes,
        String.format("%.0f", rate),
        eta);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
