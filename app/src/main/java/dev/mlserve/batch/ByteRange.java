package dev.mlserve.batch;

/**
 * A part of an input object: the bytes [start, end). A range owns exactly the lines that start
 * inside it, so ranges that tile an object score every line once, whatever bytes they cut through.
 */
public record ByteRange(long start, long end) {

  public ByteRange {
    if (start < 0 || end < start) {
      throw new IllegalArgumentException("needs 0 <= start <= end, got " + start + "-" + end);
    }
  }

  /** Parses {@code start-end} (end exclusive). */
  public static ByteRange parse(String text) {
    String[] p = text.trim().split("-");
    if (p.length != 2) {
      throw new IllegalArgumentException("expected start-end like 0-134217728, got '" + text + "'");
    }
    try {
      return new ByteRange(Long.parseLong(p[0]), Long.parseLong(p[1]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected start-end like 0-134217728, got '" + text + "'");
    }
  }

  public long length() {
    return end - start;
  }

  @Override
  public String toString() {
    return start + "-" + end;
  }
}
