package dev.mlserve.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One parsed input row.
 *
 * @param offset the byte offset of its line in the input object
 * @param id the row's id: its id field, else {@code <file>:<offset>} (stable however the file is
 *     split)
 * @param fields the input's other fields, carried into the output (null for plain text)
 * @param text the text to score
 */
record Row(long offset, JsonNode id, ObjectNode fields, String text) {}
