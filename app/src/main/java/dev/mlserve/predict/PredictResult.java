package dev.mlserve.predict;

import dev.mlserve.metrics.ServingMetrics.VariantMeters;
import dev.mlserve.model.Values;
import java.util.Map;

/**
 * The answer to a prediction: which model, version and variant served it, the outputs in signature
 * order, the rows flagged low-confidence, and the meters the caller records its latency on.
 */
public record PredictResult(
    String requestId,
    String model,
    long version,
    String variant,
    Map<String, Values> outputs,
    int rows,
    int[] lowConfidenceRows,
    VariantMeters meters) {}
