package dev.mlserve.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * How one input line becomes a row: the text handed to the model as its UTF-8 bytes, the kept
 * fields carried to the output as the input's own bytes, and what each bad line gets.
 */
class RowParserTest {
  private static RowParser parser(InputFormat format, int maxTextChars) {
    return new RowParser(format, "in/reviews.jsonl", "text", "id", maxTextChars);
  }

  private static RowParser.Parsed parse(RowParser p, String line, long offset) {
    byte[] b = line.getBytes(StandardCharsets.UTF_8);
    byte[] buf = new byte[b.length + 7]; // the reader's buffer is longer than the line
    System.arraycopy(b, 0, buf, 0, b.length);
    return p.parse(new LineReader.Line(offset, buf, b.length));
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void keptFieldsAreTheInputsBytesAndTheIdAndOutputNamesAreLeftOut() {
    RowParser.Parsed p =
        parse(
            parser(InputFormat.JSONL, 1000),
            "{\"score\": 9, \"id\": \"r1\", \"text\" : \"great movie\","
                + " \"meta\":{\"a\":[1, 2]},\"label\":\"x\", \"n\": -1.5e3}",
            40);
    assertThat(p.failure()).isNull();
    assertThat(p.row().id().asText()).isEqualTo("r1");
    assertThat(p.row().offset()).isEqualTo(40);
    assertThat(utf8(p.row().text())).isEqualTo("great movie");
    assertThat(utf8(p.row().fields()))
        .isEqualTo("\"text\" : \"great movie\",\"meta\":{\"a\":[1, 2]},\"n\": -1.5e3");
  }

  @Test
  void aTextWithEscapesIsDecodedAndOneWithoutIsItsOwnBytes() {
    RowParser json = parser(InputFormat.JSONL, 1000);
    RowParser.Parsed escaped =
        parse(json, "{\"id\":7,\"text\":\"caf\\u00e9 \\\"quoted\\\" \\\\ end\"}", 0);
    assertThat(utf8(escaped.row().text())).isEqualTo("café \"quoted\" \\ end");
    assertThat(escaped.row().id().asInt()).isEqualTo(7);
    assertThat(utf8(escaped.row().fields()))
        .isEqualTo("\"text\":\"caf\\u00e9 \\\"quoted\\\" \\\\ end\"");

    RowParser.Parsed raw = parse(json, "{\"text\":\"naïve 東京 ok\"}", 123);
    assertThat(utf8(raw.row().text())).isEqualTo("naïve 東京 ok");
    assertThat(raw.row().id().asText()).isEqualTo("reviews.jsonl:123"); // no id: file and offset
  }

  @Test
  void theLastOfRepeatedTextFieldsIsScored() {
    RowParser.Parsed p =
        parse(parser(InputFormat.JSONL, 1000), "{\"text\":\"a\",\"text\":\"b\"}", 0);
    assertThat(utf8(p.row().text())).isEqualTo("b");
  }

  @Test
  void eachBadJsonLineGetsItsReason() {
    RowParser json = parser(InputFormat.JSONL, 10);
    assertThat(parse(json, "not json", 0).failure().reason()).isEqualTo(RowFailure.NOT_JSON);
    assertThat(parse(json, "{\"id\":1,\"text\":\"unterminated", 0).failure().reason())
        .isEqualTo(RowFailure.NOT_JSON);
    assertThat(parse(json, "{\"id\":1,\"text\":\"ok\"", 0).failure().reason())
        .isEqualTo(RowFailure.NOT_JSON);
    RowParser.Parsed array = parse(json, "[1,2]", 0);
    assertThat(array.failure().reason()).isEqualTo(RowFailure.NOT_OBJECT);
    assertThat(array.failure().detail()).isEqualTo("got ARRAY");
    RowParser.Parsed noText = parse(json, "{\"id\":\"a\",\"body\":\"x\"}", 0);
    assertThat(noText.failure().reason()).isEqualTo(RowFailure.NO_TEXT);
    assertThat(noText.failure().id()).isEqualTo("a");
    assertThat(parse(json, "{\"id\":\"a\",\"text\":null}", 0).failure().reason())
        .isEqualTo(RowFailure.NO_TEXT);
    RowParser.Parsed number = parse(json, "{\"id\":\"a\",\"text\":42}", 0);
    assertThat(number.failure().reason()).isEqualTo(RowFailure.TEXT_NOT_STRING);
    assertThat(number.failure().detail()).isEqualTo("got NUMBER");
    RowParser.Parsed tooLong = parse(json, "{\"id\":\"a\",\"text\":\"12345678901\"}", 0);
    assertThat(tooLong.failure().reason()).isEqualTo(RowFailure.TOO_LONG);
    assertThat(tooLong.failure().detail()).isEqualTo("11 characters (MAX_TEXT_CHARS is 10)");
    // Characters, not bytes: ten two-byte characters are within the limit.
    assertThat(parse(json, "{\"text\":\"éééééééééé\"}", 0).row()).isNotNull();
    byte[] latin1 = "{\"text\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    RowParser.Parsed notUtf8 =
        json.parse(new LineReader.Line(0, latin1, latin1.length)); // 0xE9 alone: not UTF-8
    assertThat(notUtf8.failure().reason()).isEqualTo(RowFailure.NOT_JSON);
  }

  @Test
  void plainTextAndCsvRowsCarryTheirFieldsAsJson() throws Exception {
    RowParser text = parser(InputFormat.TEXT, 1000);
    RowParser.Parsed t = parse(text, "say \"hi\"\tnow", 9);
    assertThat(utf8(t.row().text())).isEqualTo("say \"hi\"\tnow");
    assertThat(utf8(t.row().fields())).isEqualTo("\"text\":\"say \\\"hi\\\"\\tnow\"");

    RowParser csv = parser(InputFormat.CSV, 1000);
    byte[] header = "id,lang,label,text".getBytes(StandardCharsets.UTF_8);
    csv.csvHeader(header, header.length);
    RowParser.Parsed c = parse(csv, "c1,en,x,\"good, \"\"really\"\"\"", 20);
    assertThat(c.row().id().asText()).isEqualTo("c1");
    assertThat(utf8(c.row().text())).isEqualTo("good, \"really\"");
    assertThat(utf8(c.row().fields()))
        .isEqualTo("\"lang\":\"en\",\"text\":\"good, \\\"really\\\"\"");
    assertThat(parse(csv, "c2,en", 30).failure().reason()).isEqualTo(RowFailure.COLUMNS);
  }
}
