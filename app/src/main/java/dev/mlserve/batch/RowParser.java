package dev.mlserve.batch;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Turns one line of an input file into a {@link Row}, or says why it cannot ({@link RowFailure}).
 * One instance per thread (it keeps a decoder).
 */
final class RowParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectReader CSV_LINE =
      new CsvMapper().readerFor(String[].class).with(CsvParser.Feature.WRAP_AS_ARRAY);

  /** One CSV record (a line, or lines joined in multi-line mode) as its values. */
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
  private final boolean csvMultiline;
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
  private List<String> header;
  private final ByteArrayOutputStream kept = new ByteArrayOutputStream(4096);

  /** Input fields the output writes itself: never carried through. */
  static final Set<String> RESERVED = Set.of("id", "score", "scores", "label", "low_confidence");

  RowParser(InputFormat format, String file, String textField, String idField, int maxTextChars) {
    this(format, file, textField, idField, maxTextChars, false);
  }

  /**
   * @param csvMultiline CSV records may span lines (the reader joins them); only says which hint a
   *     record with an unclosed quote gets
   */
  RowParser(
      InputFormat format,
      String file,
      String textField,
      String idField,
      int maxTextChars,
      boolean csvMultiline) {
    this.format = format;
    this.csvMultiline = csvMultiline;
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

  /**
   * A JSON line, read with a streaming parser: only the id and the text are decoded; every other
   * kept field is carried to the output as its bytes in the line (no tree, no re-encoding).
   */
  private Parsed json(LineReader.Line line) {
    long offset = line.offset();
    byte[] b = line.bytes();
    kept.reset();
    JsonNode id = null;
    JsonToken textToken = null;
    byte[] text = null;
    int textChars = 0;
    try (JsonParser p = JSON.getFactory().createParser(b, 0, line.length())) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_OBJECT) {
        return fail(offset, null, RowFailure.NOT_OBJECT, "got " + kind(t));
      }
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        int start = (int) p.currentTokenLocation().getByteOffset();
        JsonToken v = p.nextToken();
        if (name.equals(idField)) {
          id = v.isScalarValue() && v != JsonToken.VALUE_NULL ? p.readValueAsTree() : null;
          p.skipChildren();
          continue; // written as "id"
        }
        int valueStart = (int) p.currentTokenLocation().getByteOffset();
        p.skipChildren();
        p.finishToken(); // decodes a string, which checks its UTF-8
        int end = (int) p.currentLocation().getByteOffset();
        if (name.equals(textField)) { // the last one counts, as in a tree
          textToken = v;
          boolean string = v == JsonToken.VALUE_STRING;
          text = string ? stringBytes(p, b, valueStart, end) : null;
          textChars = string ? p.getTextLength() : 0;
        }
        if (!RESERVED.contains(name)) {
          if (kept.size() > 0) {
            kept.write(',');
          }
          kept.write(b, start, end - start);
        }
      }
      if (t != JsonToken.END_OBJECT) {
        return fail(offset, null, RowFailure.NOT_JSON, "the object does not end");
      }
    } catch (JsonProcessingException e) {
      String m = e.getOriginalMessage();
      return fail(offset, null, RowFailure.NOT_JSON, m.length() > 200 ? m.substring(0, 200) : m);
    } catch (IOException e) {
      return fail(offset, null, RowFailure.NOT_JSON, e.getMessage());
    }
    if (id == null) {
      id = generatedId(offset);
    }
    if (textToken == null || textToken == JsonToken.VALUE_NULL) {
      return fail(offset, id.asText(), RowFailure.NO_TEXT, "no field '" + textField + "'");
    }
    if (text == null) {
      return fail(offset, id.asText(), RowFailure.TEXT_NOT_STRING, "got " + kind(textToken));
    }
    return checked(offset, id, kept.toByteArray(), text, textChars);
  }

  /**
   * The UTF-8 bytes of the string value at {@code [open, end)} of the line (its quotes included):
   * the bytes between the quotes when it has no escapes (the parser has already checked their
   * UTF-8), else the decoded text encoded again.
   */
  private static byte[] stringBytes(JsonParser p, byte[] line, int open, int end)
      throws IOException {
    int close = end - 1;
    for (int i = open + 1; i < close; i++) {
      if (line[i] == '\\') {
        return p.getText().getBytes(StandardCharsets.UTF_8);
      }
    }
    return Arrays.copyOfRange(line, open + 1, close);
  }

  private static String kind(JsonToken t) {
    if (t == null) {
      return "nothing";
    }
    return switch (t) {
      case START_ARRAY -> "ARRAY";
      case START_OBJECT -> "OBJECT";
      case VALUE_STRING -> "STRING";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "NUMBER";
      case VALUE_TRUE, VALUE_FALSE -> "BOOLEAN";
      case VALUE_NULL -> "NULL";
      default -> t.name();
    };
  }

  private Parsed text(LineReader.Line line) {
    long offset = line.offset();
    String text;
    try {
      text = decode(line.bytes(), line.length());
    } catch (CharacterCodingException e) {
      return fail(offset, null, RowFailure.NOT_UTF8, e.toString());
    }
    byte[] fields;
    try {
      fields = members(new String[] {textField}, new String[] {text});
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory
    }
    return checked(
        offset,
        generatedId(offset),
        fields,
        Arrays.copyOf(line.bytes(), line.length()),
        text.length());
  }

  private Parsed csv(LineReader.Line line) {
    long offset = line.offset();
    // an odd number of double quotes: a quoted field runs past the record's end
    if ((LineReader.count((byte) '"', line.bytes(), 0, line.length()) & 1) == 1) {
      return fail(
          offset,
          null,
          RowFailure.BAD_CSV,
          csvMultiline
              ? "a quoted field is never closed (the file ends inside it)"
              : "a quoted field is not closed on its line (quoted line breaks need"
                  + " BATCH_CSV_MULTILINE=true)");
    }
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
    String text = values[header.indexOf(textField)];
    int idColumn = header.indexOf(idField);
    JsonNode id =
        idColumn < 0 || values[idColumn].isEmpty()
            ? generatedId(offset)
            : TextNode.valueOf(values[idColumn]);
    byte[] fields;
    try {
      fields = members(header.toArray(String[]::new), values);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory
    }
    return checked(offset, id, fields, text.getBytes(StandardCharsets.UTF_8), text.length());
  }

  /** {@code "name":"value",...} for the kept names (not the id, not the output's own fields). */
  private byte[] members(String[] names, String[] values) throws IOException {
    kept.reset();
    try (JsonGenerator g = JSON.getFactory().createGenerator(kept)) {
      g.writeStartObject();
      for (int i = 0; i < names.length; i++) {
        if (!names[i].equals(idField) && !RESERVED.contains(names[i])) {
          g.writeStringField(names[i], values[i]);
        }
      }
      g.writeEndObject();
    }
    byte[] object = kept.toByteArray();
    return Arrays.copyOfRange(object, 1, object.length - 1); // without the braces
  }

  private Parsed checked(long offset, JsonNode id, byte[] fields, byte[] text, int textChars) {
    if (textChars > maxTextChars) {
      return fail(
          offset,
          id.asText(),
          RowFailure.TOO_LONG,
          textChars + " characters (MAX_TEXT_CHARS is " + maxTextChars + ")");
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
