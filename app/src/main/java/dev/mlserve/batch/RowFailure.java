package dev.mlserve.batch;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A row that could not be scored, and why. {@code reason} is one of a few fixed phrases (counted
 * per reason in the manifest); {@code detail} says more about this row.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RowFailure(
    @JsonProperty("file") String file,
    @JsonProperty("offset") long offset,
    @JsonProperty("id") String id,
    @JsonProperty("reason") String reason,
    @JsonProperty("detail") String detail) {

  static final String NOT_JSON = "not valid JSON";
  static final String NOT_OBJECT = "not a JSON object";
  static final String NO_TEXT = "missing text field";
  static final String TEXT_NOT_STRING = "text field is not a string";
  static final String TOO_LONG = "text over the length limit";
  static final String LINE_TOO_LONG = "line over the length limit";
  static final String NOT_UTF8 = "not valid UTF-8";
  static final String BAD_CSV = "not valid CSV";
  static final String COLUMNS = "wrong number of CSV columns";
  static final String MODEL_REJECTED = "rejected by the model";
}
