package dev.mlserve.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPInputStream;

/**
 * Extracts a {@code .tar.gz} of regular files and folders with the JDK alone. Reads ustar, GNU long
 * names and PAX {@code path}/{@code size} records (what GNU tar and Python's tarfile write);
 * refuses links, devices and any entry whose name would land outside the target folder, so a
 * crafted archive cannot write anywhere else or smuggle in a symlink.
 */
final class TarGzExtractor {
  private static final int BLOCK = 512;

  private TarGzExtractor() {}

  /**
   * Extracts into {@code target} (which must exist) and closes {@code gz}; returns the file count.
   */
  static int extract(InputStream gz, Path target) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(gz, 64 * 1024)) {
      return extractTar(in, target);
    }
  }

  private static int extractTar(InputStream in, Path target) throws IOException {
    byte[] header = new byte[BLOCK];
    String longName = null;
    String paxPath = null;
    long paxSize = -1;
    int files = 0;
    while (true) {
      if (!readBlock(in, header)) {
        throw new IOException("archive ends without the tar end marker (truncated?)");
      }
      if (isZeros(header)) {
        return files; // end of archive
      }
      verifyChecksum(header);
      char type = (char) header[156];
      long headerSize = parseNumber(header, 124, 12);
      long size = paxSize >= 0 ? paxSize : headerSize;
      String name = longName != null ? longName : paxPath != null ? paxPath : ustarName(header);
      switch (type) {
        case 'x' -> {
          String[] pax = parsePax(readAll(in, headerSize));
          paxPath = pax[0] != null ? pax[0] : paxPath;
          paxSize = pax[1] != null ? Long.parseLong(pax[1]) : paxSize;
          continue;
        }
        case 'L' -> {
          longName = cString(readAll(in, headerSize));
          continue;
        }
        case 'g' -> {
          skip(in, headerSize); // global PAX headers: nothing we use
          continue;
        }
        case '0', '\0', '7' -> {
          Path file = SafePaths.resolveInside(target, name);
          Files.createDirectories(file.getParent());
          try (OutputStream out =
              Files.newOutputStream(
                  file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            copy(in, out, size);
          }
          skipPadding(in, size);
          files++;
        }
        case '5' -> {
          if (!isTop(name)) { // "./" is the target itself
            Files.createDirectories(SafePaths.resolveInside(target, name));
          }
          skip(in, size);
        }
        default ->
            throw new IOException(
                "refusing tar entry '" + name + "' of type '" + type + "': only files and folders");
      }
      longName = null;
      paxPath = null;
      paxSize = -1;
    }
  }

  private static boolean isTop(String name) {
    return name.equals(".") || name.equals("./");
  }

  private static String ustarName(byte[] h) {
    String name = cString(h, 0, 100);
    boolean ustar = new String(h, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
    String prefix = ustar ? cString(h, 345, 155) : "";
    return prefix.isEmpty() ? name : prefix + "/" + name;
  }

  private static void verifyChecksum(byte[] h) throws IOException {
    long expected;
    try {
      expected = parseNumber(h, 148, 8);
    } catch (IOException e) {
      expected = -1;
    }
    long sum = 0;
    for (int i = 0; i < BLOCK; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
    }
    if (sum != expected) {
      throw new IOException("not a tar archive, or a corrupt one (header checksum mismatch)");
    }
  }

  /** Octal ASCII, or GNU base-256 (high bit set) for sizes over 8 GiB. */
  private static long parseNumber(byte[] h, int off, int len) throws IOException {
    if ((h[off] & 0x80) != 0) {
      long v = h[off] & 0x7f;
      for (int i = 1; i < len; i++) {
        v = (v << 8) | (h[off + i] & 0xff);
      }
      return v;
    }
    long v = 0;
    boolean digits = false;
    for (int i = off; i < off + len; i++) {
      byte b = h[i];
      if (b == 0 || (b == ' ' && digits)) {
        break;
      }
      if (b == ' ') {
        continue;
      }
      if (b < '0' || b > '7') {
        throw new IOException("corrupt tar header (bad number)");
      }
      v = v * 8 + (b - '0');
      digits = true;
    }
    return v;
  }

  /** PAX records "len key=value\n": returns {path, size}. */
  private static String[] parsePax(byte[] data) throws IOException {
    String[] out = new String[2];
    int i = 0;
    while (i < data.length) {
      int space = indexOf(data, (byte) ' ', i);
      if (space < 0) {
        break;
      }
      int len;
      try {
        len = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
      } catch (NumberFormatException e) {
        throw new IOException("corrupt PAX header");
      }
      if (len <= 0 || i + len > data.length) {
        throw new IOException("corrupt PAX header");
      }
      String record = new String(data, space + 1, i + len - space - 2, StandardCharsets.UTF_8);
      int eq = record.indexOf('=');
      if (eq > 0) {
        String key = record.substring(0, eq);
        String value = record.substring(eq + 1);
        if (key.equals("path")) {
          out[0] = value;
        } else if (key.equals("size")) {
          out[1] = value;
        } else if (key.equals("linkpath")) {
          throw new IOException("refusing a tar link entry");
        }
      }
      i += len;
    }
    return out;
  }

  private static byte[] readAll(InputStream in, long size) throws IOException {
    if (size > 1024 * 1024) {
      throw new IOException("tar metadata entry too large: " + size + " bytes");
    }
    byte[] data = in.readNBytes((int) size);
    if (data.length != size) {
      throw new IOException("archive truncated");
    }
    skipPadding(in, size);
    return data;
  }

  private static void copy(InputStream in, OutputStream out, long size) throws IOException {
    byte[] buf = new byte[64 * 1024];
    long left = size;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new IOException("archive truncated");
      }
      out.write(buf, 0, n);
      left -= n;
    }
  }

  private static void skip(InputStream in, long size) throws IOException {
    copy(in, OutputStream.nullOutputStream(), size);
    skipPadding(in, size);
  }

  private static void skipPadding(InputStream in, long size) throws IOException {
    long pad = (BLOCK - size % BLOCK) % BLOCK;
    copy(in, OutputStream.nullOutputStream(), pad);
  }

  private static boolean readBlock(InputStream in, byte[] block) throws IOException {
    return in.readNBytes(block, 0, BLOCK) == BLOCK;
  }

  private static boolean isZeros(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static String cString(byte[] b) {
    return cString(b, 0, b.length);
  }

  private static String cString(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static int indexOf(byte[] b, byte x, int from) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == x) {
        return i;
      }
    }
    return -1;
  }
}
