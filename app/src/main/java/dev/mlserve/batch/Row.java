package dev.mlserve.batch;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One parsed input row.
 *
 * @param offset the byte offset of its line in the input object
 * @param id the row's id: its id field, else {@code <file>:<offset>} (stable however the file is
 *     split)
 * @param fields the input's other fields as JSON object members without the braces ({@code
 *     "text":"...","lang":"en"}), carried into the output as they are; empty when none
 * @param text the UTF-8 bytes of the text to score
 */
record Row(long offset, JsonNode id, byte[] fields, byte[] text) {}
