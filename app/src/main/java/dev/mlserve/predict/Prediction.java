package dev.mlserve.predict;

import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.util.Map;

/**
 * The answer to a prediction request: which model, version and variant served it, the outputs in
 * signature order, and the rows flagged low-confidence.
 */
public record Prediction(
    String requestId,
    String model,
    long version,
    String variant,
    SignatureSpec signature,
    Map<String, Values> outputs,
    int rows,
    int[] lowConfidenceRows) {}
