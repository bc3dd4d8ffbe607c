package dev.mlserve.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded hand-off from request threads to the writer. The bound covers every record not yet
 * written — queued here or waiting in the writer for its file — so memory stays bounded even when
 * S3 is slow or down; {@link #offer} never blocks.
 */
final class CaptureBuffer {
  private final int capacity;
  private final AtomicInteger held = new AtomicInteger();
  private final ConcurrentLinkedQueue<CaptureRecord> queue = new ConcurrentLinkedQueue<>();

  CaptureBuffer(int capacity) {
    this.capacity = capacity;
  }

  /** Takes the record, or returns false at once when {@code capacity} records are held. */
  boolean offer(CaptureRecord r) {
    int h;
    do {
      h = held.get();
      if (h >= capacity) {
        return false;
      }
    } while (!held.compareAndSet(h, h + 1));
    queue.add(r);
    return true;
  }

  /** Everything queued so far; the records stay counted until {@link #release}d. */
  List<CaptureRecord> drain() {
    List<CaptureRecord> out = new ArrayList<>();
    for (CaptureRecord r; (r = queue.poll()) != null; ) {
      out.add(r);
    }
    return out;
  }

  /** {@code n} drained records are gone (written or given up): room for new ones. */
  void release(int n) {
    held.addAndGet(-n);
  }

  /** Records held: queued plus drained and not yet released. */
  int held() {
    return held.get();
  }

  int capacity() {
    return capacity;
  }
}
