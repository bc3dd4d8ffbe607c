package dev.mlserve.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Byte-range ownership, exhaustively: for every way to cut a file in two (and in three), the ranges
 * read together give exactly the lines of the whole file, none lost or doubled, whatever the cut
 * falls on (a newline, a {@code \r\n}, a blank line, the middle of a UTF-8 character).
 */
class LineReaderTest {
  private static final byte[] FILE =
      ("first\nsecond line\r\n\n\né漢字 multi-byte\nx\n" + "y".repeat(40) + "\nlast without newline")
          .getBytes(StandardCharsets.UTF_8);

  /** "offset:text" of every line the range owns, read the way a scoring task reads it. */
  private static List<String> read(byte[] file, ByteRange range, int maxLine) throws IOException {
    return read(file, range, maxLine, false);
  }

  private static List<String> read(byte[] file, ByteRange range, int maxLine, boolean csvRecords)
      throws IOException {
    long from = LineReader.fetchFrom(range);
    LineReader r =
        new LineReader(
            new ByteArrayInputStream(file, (int) from, file.length - (int) from),
            from,
            maxLine,
            csvRecords,
            16); // a tiny buffer: lines straddle refills
    r.enter(range);
    List<String> out = new ArrayList<>();
    LineReader.Line l;
    while ((l = r.nextIn(range)) != null) {
      out.add(
          l.offset()
              + ":"
              + (l.tooLong()
                  ? "<too long>"
                  : new String(l.bytes(), 0, l.length(), StandardCharsets.UTF_8)));
    }
    return out;
  }

  @Test
  void readsLinesWithTheirOffsetsAndStripsCarriageReturns() throws IOException {
    assertThat(read(FILE, new ByteRange(0, FILE.length), 1000))
        .startsWith("0:first", "6:second line", "19:", "20:", "21:é漢字 multi-byte")
        .endsWith((FILE.length - "last without newline".length()) + ":last without newline")
        .hasSize(8);
  }

  @Test
  void everyTwoWayAndThreeWaySplitGivesEachLineOnce() throws IOException {
    List<String> whole = read(FILE, new ByteRange(0, FILE.length), 1000);
    int n = FILE.length;
    for (int a = 0; a <= n; a++) {
      List<String> two = new ArrayList<>(read(FILE, new ByteRange(0, a), 1000));
      two.addAll(read(FILE, new ByteRange(a, n), 1000));
      assertThat(two).as("cut at %d", a).isEqualTo(whole);
      for (int b = a; b <= n; b += 7) {
        List<String> three = new ArrayList<>(read(FILE, new ByteRange(0, a), 1000));
        three.addAll(read(FILE, new ByteRange(a, b), 1000));
        three.addAll(read(FILE, new ByteRange(b, n), 1000));
        assertThat(three).as("cuts at %d and %d", a, b).isEqualTo(whole);
      }
    }
  }

  @Test
  void aLineOverTheLimitIsReportedNotHeld() throws IOException {
    byte[] big = new byte[3 << 20];
    Arrays.fill(big, (byte) 'a');
    byte[] file =
        ("short\n" + new String(big, StandardCharsets.US_ASCII) + "\nafter\n")
            .getBytes(StandardCharsets.US_ASCII);
    assertThat(read(file, new ByteRange(0, file.length), 1 << 20))
        .containsExactly("0:short", "6:<too long>", (6 + big.length + 1) + ":after");
  }

  @Test
  void csvRecordModeJoinsLinesWhileAQuotedFieldIsOpen() throws IOException {
    String csv =
        "id,text\n1,\"two\nlines\"\n2,\"a \"\"quoted\"\" word, one line\"\r\n"
            + "3,\"crlf\r\ninside\",\"and\n\n\nblank lines\"\r\n4,last";
    byte[] file = csv.getBytes(StandardCharsets.UTF_8);
    assertThat(read(file, new ByteRange(0, file.length), 1000, true))
        .containsExactly(
            "0:id,text",
            csv.indexOf("1,") + ":1,\"two\nlines\"",
            csv.indexOf("2,") + ":2,\"a \"\"quoted\"\" word, one line\"",
            csv.indexOf("3,") + ":3,\"crlf\r\ninside\",\"and\n\n\nblank lines\"",
            csv.indexOf("4,") + ":4,last");
    // Line mode reads the same bytes as physical lines.
    assertThat(read(file, new ByteRange(0, file.length), 1000, false)).hasSize(10);
  }

  @Test
  void anUnclosedQuoteEndsAtTheLimitAndReadingGoesOnAtTheNextLine() throws IOException {
    String csv = "1,\"open\n" + "a".repeat(30) + "\n" + "b".repeat(30) + "\n2,ok\n3,\"x\"\n";
    byte[] file = csv.getBytes(StandardCharsets.UTF_8);
    // 1,"open + a's fit in 50 bytes; the b's pass the limit: the record ends at their line break
    assertThat(read(file, new ByteRange(0, file.length), 50, true))
        .containsExactly(
            "0:<too long>", csv.indexOf("2,") + ":2,ok", csv.indexOf("3,") + ":3,\"x\"");
  }
}
