package dev.mlserve.capture;

/** Where the prediction path hands captured records; never blocks the caller. */
public interface CaptureSink extends AutoCloseable {
  /** Takes a record, or drops (and counts) it when the buffer is full. */
  void offer(CaptureRecord record);

  /** Writes what is buffered and stops; called on shutdown. */
  @Override
  void close();

  /** A sink that keeps nothing, for when capture is off. */
  CaptureSink NONE =
      new CaptureSink() {
        @Override
        public void offer(CaptureRecord record) {}

        @Override
        public void close() {}
      };
}
