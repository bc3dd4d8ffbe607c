package dev.mlserve.batch;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One part of a job: a byte range of one input object, scored by one task. The plan is a JSON array
 * of these ({@code _plan.json}), which the state machine's Distributed Map reads as its items and
 * passes to each task as container environment overrides; the model version is pinned here so every
 * part of a job scores with the same version even if a new one is published meanwhile.
 */
public record PlanItem(
    @JsonProperty("part") String part,
    @JsonProperty("input_uri") String inputUri,
    @JsonProperty("name") String name,
    @JsonProperty("format") String format,
    @JsonProperty("byte_range") String byteRange,
    @JsonProperty("model") String model,
    @JsonProperty("model_version") long modelVersion) {}
