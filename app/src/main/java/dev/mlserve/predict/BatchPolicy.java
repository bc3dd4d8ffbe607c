package dev.mlserve.predict;

/**
 * How one model's requests are merged: at most {@code maxBatchSize} rows per TensorFlow call,
 * waiting at most {@code maxWaitMicros} for more rows (only while other batches are running, so a
 * lone request never waits), and at most {@code maxQueueRows} rows queued before new requests are
 * refused as overloaded.
 */
public record BatchPolicy(
    boolean enabled, int maxBatchSize, long maxWaitMicros, int maxQueueRows) {}
