package dev.mlserve.predict;

import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One prediction as a client asked for it, in plain values: which model (and version or label, if
 * named), which signature ("" = the default), the inputs by name ({@link SignatureSpec#UNNAMED} for
 * a lone unnamed input), which outputs (empty = all), and the request's headers for sticky variant
 * routing.
 */
public record PredictRequest(
    String requestId,
    String model,
    OptionalLong version,
    Optional<String> label,
    String signature,
    Map<String, Values> inputs,
    Set<String> outputs,
    UnaryOperator<String> headers) {}
