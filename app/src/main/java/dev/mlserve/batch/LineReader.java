package dev.mlserve.batch;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines and knows each line's absolute byte offset, which {@link
 * ByteRange} ownership and the generated row ids need (a {@code BufferedReader} cannot tell). A
 * line longer than the limit is skipped to its end and reported, never held in memory.
 *
 * <p>In CSV record mode a line break inside a double-quoted field (RFC 4180) does not end the
 * record: lines are joined, their line breaks kept, while an odd number of quotes has been seen. A
 * quote that is never closed cannot swallow the rest of the file: once the record passes the limit
 * it is reported as too long and ends at the next line break, and reading goes on from there.
 */
final class LineReader {
  /**
   * One line without its {@code \n} (and {@code \r}); {@code bytes == null} when over the limit.
   */
  record Line(long offset, byte[] bytes, int length) {
    boolean tooLong() {
      return bytes == null;
    }
  }

  private final InputStream in;
  private final int maxLineBytes;
  private final boolean csvRecords;
  private final byte[] buf;
  private int pos;
  private int limit;
  private long bufferOffset; // absolute offset of buf[0]
  private boolean eof;
  private byte[] line = new byte[8192];

  /**
   * @param in the stream; its first byte is at absolute offset {@code base}
   */
  LineReader(InputStream in, long base, int maxLineBytes) {
    this(in, base, maxLineBytes, false, 1 << 20);
  }

  /**
   * @param csvRecords join lines while a double-quoted field is open (multi-line CSV records)
   */
  LineReader(InputStream in, long base, int maxLineBytes, boolean csvRecords) {
    this(in, base, maxLineBytes, csvRecords, 1 << 20);
  }

  /** With a given read buffer size (tests use tiny ones so lines straddle refills). */
  LineReader(InputStream in, long base, int maxLineBytes, boolean csvRecords, int bufferBytes) {
    this.buf = new byte[bufferBytes];
    this.in = in;
    this.bufferOffset = base;
    this.maxLineBytes = maxLineBytes;
    this.csvRecords = csvRecords;
  }

  /**
   * The first byte to fetch for a range: one before its start, so that a range can tell whether a
   * line starts exactly at its first byte.
   */
  static long fetchFrom(ByteRange range) {
    return range.start() == 0 ? 0 : range.start() - 1;
  }

  /**
   * Positions a reader opened at {@link #fetchFrom} on the range's first owned line: drops the tail
   * of a line that started before the range (its owner reads it).
   */
  void enter(ByteRange range) throws IOException {
    if (range.start() > 0) {
      next();
    }
  }

  /** The next line the range owns (one that starts before its end), or null. */
  Line nextIn(ByteRange range) throws IOException {
    Line l = next();
    return l == null || l.offset() >= range.end() ? null : l;
  }

  /** The absolute offset of the next byte to be read. */
  long position() {
    return bufferOffset + pos;
  }

  /** The next line (in CSV record mode: record), or null at the end of the stream. */
  Line next() throws IOException {
    long start = position();
    int len = 0;
    boolean tooLong = false;
    boolean any = false;
    boolean quoted = false; // inside a double-quoted field (CSV record mode only)
    while (true) {
      if (pos == limit && !fill()) {
        if (!any) {
          return null;
        }
        break; // a last line without a newline
      }
      any = true;
      int nl = indexOf((byte) '\n', pos, limit);
      int end = nl < 0 ? limit : nl;
      int n = end - pos;
      if (csvRecords && !tooLong && (count((byte) '"', buf, pos, end) & 1) == 1) {
        quoted = !quoted;
      }
      if (!tooLong) {
        if (len + n > maxLineBytes) {
          tooLong = true;
        } else {
          if (len + n > line.length) {
            line = Arrays.copyOf(line, Math.max(len + n, line.length * 2));
          }
          System.arraycopy(buf, pos, line, len, n);
          len += n;
        }
      }
      pos = end;
      if (nl >= 0) {
        pos++; // the newline
        if (quoted && !tooLong) { // the line break belongs to a quoted field: keep it, read on
          if (len + 1 > maxLineBytes) {
            tooLong = true;
          } else {
            if (len + 1 > line.length) {
              line = Arrays.copyOf(line, line.length * 2);
            }
            line[len++] = '\n';
          }
          continue;
        }
        break;
      }
    }
    if (tooLong) {
      return new Line(start, null, 0);
    }
    if (len > 0 && line[len - 1] == '\r') {
      len--;
    }
    return new Line(start, line, len);
  }

  private static int indexOf(byte b, byte[] a, int from, int to) {
    for (int i = from; i < to; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /** How many times {@code b} occurs in {@code a[from, to)}. */
  static int count(byte b, byte[] a, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      if (a[i] == b) {
        n++;
      }
    }
    return n;
  }

  private int indexOf(byte b, int from, int to) {
    return indexOf(b, buf, from, to);
  }

  private boolean fill() throws IOException {
    if (eof) {
      return false;
    }
    bufferOffset += limit;
    pos = 0;
    limit = 0;
    int n = in.readNBytes(buf, 0, buf.length);
    if (n <= 0) {
      eof = true;
      return false;
    }
    limit = n;
    return true;
  }
}
