package dev.mlserve.capture;

import java.time.Instant;
import java.util.Map;

/**
 * One captured prediction, already in JSON-ready plain Java (strings, numbers, lists, maps), so the
 * capture writer needs to know nothing of tensors.
 *
 * @param lowConfidenceRows indices of rows whose score fell in the low-confidence band
 */
public record CaptureRecord(
    String requestId,
    Instant time,
    String model,
    long version,
    String variant,
    String signature,
    Map<String, Object> inputs,
    Map<String, Object> outputs,
    double latencyMs,
    int[] lowConfidenceRows) {}
