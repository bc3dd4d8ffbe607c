package dev.mlserve.batch;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.mlserve.config.Band;
import java.util.List;
import java.util.Map;

/**
 * What one part's task did ({@code parts/<part>/_part.json}, written after its outputs): counts,
 * the first failures, a few low-confidence ids, and timings. The merge step adds these up.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PartSummary(
    @JsonProperty("part") String part,
    @JsonProperty("name") String name,
    @JsonProperty("input_uri") String inputUri,
    @JsonProperty("byte_range") String byteRange,
    @JsonProperty("format") String format,
    @JsonProperty("model") String model,
    @JsonProperty("model_version") long modelVersion,
    @JsonProperty("signature") String signature,
    @JsonProperty("low_confidence_band") Band lowConfidenceBand,
    @JsonProperty("rows") long rows,
    @JsonProperty("scored") long scored,
    @JsonProperty("failed_rows") long failedRows,
    @JsonProperty("low_confidence_rows") long lowConfidenceRows,
    @JsonProperty("by_label") Map<String, Long> byLabel,
    @JsonProperty("by_band") Map<String, Long> byBand,
    @JsonProperty("failure_reasons") Map<String, Long> failureReasons,
    @JsonProperty("failures") List<RowFailure> failures,
    @JsonProperty("low_confidence_samples") List<String> lowConfidenceSamples,
    @JsonProperty("started") String started,
    @JsonProperty("finished") String finished,
    @JsonProperty("seconds") double seconds,
    @JsonProperty("rows_per_second") double rowsPerSecond,
    @JsonProperty("stage_seconds") Map<String, Double> stageSeconds) {}
