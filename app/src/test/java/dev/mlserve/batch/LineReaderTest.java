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
    long from = LineReader.fetchFrom(range);
    LineReader r =
        new LineReader(
            new ByteArrayInputStream(file, (int) from, file.length - (int) from),
            from,
            maxLine,
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
}
