package dev.mlserve.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Turns one line of an input file into a {@link Row}, or says why it cannot ({@link RowFailure}).
 * One instance per thread (it keeps a decoder).
 */
final class RowParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectReader CSV_LINE =
      new CsvMapper().readerFor(String[].class).with(CsvParser.Feature.WRAP_AS_ARRAY);

  /** One CSV record (a line) as its values. */
  private static String[] csvValues(String line) throws IOException {
    try (MappingIterator<String[]> it = CSV_LINE.readValues(line)) {
      return it.hasNextValue() ? it.nextValue() : new String[0];
    }
  }

  /** A parse result: exactly one of the two is set. */
  record Parsed(Row row, RowFailure failure) {}

  private final InputFormat format;
  private final String file;
  private final String idPrefix;
  private final String textField;
  private final String idField;
  private final int maxTextChars;
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
  private List<String> header;

  RowParser(InputFormat format, String file, String textField, String idField, int maxTextChars) {
    this.format = format;
    this.file = file;
    this.idPrefix = file.substring(file.lastIndexOf('/') + 1) + ":";
    this.textField = textField;
    this.idField = idField;
    this.maxTextChars = maxTextChars;
  }

  /** Reads the CSV header line; a missing text column fails the whole file, before any row. */
  void csvHeader(byte[] line, int length) throws IOException {
    String[] names = csvValues(decode(line, length));
    header = List.of(names).stream().map(String::trim).toList();
    if (!header.contains(textField)) {
      throw new IOException(
          file + ": the CSV header " + header + " has no text column '" + textField + "'");
    }
  }

  /** Null for a blank line (skipped, not a row). */
  Parsed parse(LineReader.Line line) {
    long offset = line.offset();
    if (line.tooLong()) {
      return fail(offset, null, RowFailure.LINE_TOO_LONG, "the line is longer than the limit");
    }
    if (isBlank(line.bytes(), line.length())) {
      return null;
    }
    return switch (format) {
      case JSONL -> json(line);
      case TEXT -> text(line);
      case CSV -> csv(line);
    };
  }

  private Parsed json(LineReader.Line line) {
    long offset = line.offset();
    JsonNode node;
    try {
      node = JSON.readTree(line.bytes(), 0, line.length());
    } catch (JsonProcessingException e) {
      String m = e.getOriginalMessage();
      return fail(offset, null, RowFailure.NOT_JSON, m.length() > 200 ? m.substring(0, 200) : m);
    } catch (IOException e) {
      return fail(offset, null, RowFailure.NOT_JSON, e.getMessage());
    }
    if (!(node instanceof ObjectNode obj)) {
      return fail(offset, null, RowFailure.NOT_OBJECT, "got " + node.getNodeType());
    }
    JsonNode id = obj.get(idField);
    if (id == null || id.isNull() || id.isContainerNode()) {
      id = generatedId(offset);
    }
    JsonNode t = obj.get(textField);
    if (t == null || t.isNull()) {
      return fail(offset, id.asText(), RowFailure.NO_TEXT, "no field '" + textField + "'");
    }
    if (!t.isTextual()) {
      return fail(offset, id.asText(), RowFailure.TEXT_NOT_STRING, "got " + t.getNodeType());
    }
    return checked(offset, id, obj, t.textValue());
  }

  private Parsed text(LineReader.Line line) {
    long offset = line.offset();
    String text;
    try {
      text = decode(line.bytes(), line.length());
    } catch (CharacterCodingException e) {
      return fail(offset, null, RowFailure.NOT_UTF8, e.toString());
    }
    ObjectNode fields = JsonNodeFactory.instance.objectNode();
    fields.put(textField, text);
    return checked(offset, generatedId(offset), fields, text);
  }

  private Parsed csv(LineReader.Line line) {
    long offset = line.offset();
    String[] values;
    try {
      values = csvValues(decode(line.bytes(), line.length()));
    } catch (CharacterCodingException e) {
      return fail(offset, null, RowFailure.NOT_UTF8, e.toString());
    } catch (IOException e) {
      return fail(
          offset,
          null,
          RowFailure.BAD_CSV,
          String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
    }
    if (values.length != header.size()) {
      return fail(
          offset,
          null,
          RowFailure.COLUMNS,
          values.length + " values, the header has " + header.size() + " columns");
    }
    ObjectNode fields = JsonNodeFactory.instance.objectNode();
    for (int i = 0; i < values.length; i++) {
      fields.put(header.get(i), values[i]);
    }
    JsonNode id = fields.get(idField);
    if (id == null || id.asText().isEmpty()) {
      id = generatedId(offset);
    }
    return checked(offset, id, fields, fields.get(textField).asText());
  }

  private Parsed checked(long offset, JsonNode id, ObjectNode fields, String text) {
    if (text.length() > maxTextChars) {
      return fail(
          offset,
          id.asText(),
          RowFailure.TOO_LONG,
          text.length() + " characters (MAX_TEXT_CHARS is " + maxTextChars + ")");
    }
    if (fields != null) {
      fields.remove(idField);
    }
    return new Parsed(new Row(offset, id, fields, text), null);
  }

  private Parsed fail(long offset, String id, String reason, String detail) {
    return new Parsed(null, new RowFailure(file, offset, id, reason, detail));
  }

  private JsonNode generatedId(long offset) {
    return TextNode.valueOf(idPrefix + offset);
  }

  private String decode(byte[] bytes, int length) throws CharacterCodingException {
    return utf8.decode(ByteBuffer.wrap(bytes, 0, length)).toString();
  }

  private static boolean isBlank(byte[] b, int length) {
    for (int i = 0; i < length; i++) {
      if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
        return false;
      }
    }
    return true;
  }
}
