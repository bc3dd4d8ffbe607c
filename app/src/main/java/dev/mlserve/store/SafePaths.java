package dev.mlserve.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Turns a relative name from outside (an S3 key below a version, a tar entry) into a path inside a
 * given folder, or refuses it. This is the one gate between bucket contents and the file system.
 */
final class SafePaths {
  private SafePaths() {}

  /**
   * {@code root/relative}, refusing absolute names, {@code ..}, empty or {@code .} segments,
   * backslashes and control characters. A leading {@code ./} (as tar writes) is allowed.
   */
  static Path resolveInside(Path root, String relative) throws IOException {
    String name = relative;
    while (name.startsWith("./")) {
      name = name.substring(2);
    }
    if (name.endsWith("/")) {
      name = name.substring(0, name.length() - 1);
    }
    if (name.isEmpty() || name.startsWith("/")) {
      throw unsafe(relative);
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      // Backslash: a Windows separator in disguise; control characters: no legitimate use.
      if (c == '\\' || c < 0x20 || c == 0x7f) {
        throw unsafe(relative);
      }
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw unsafe(relative);
      }
    }
    Path base = root.toAbsolutePath().normalize();
    Path resolved = base.resolve(name).normalize();
    if (!resolved.startsWith(base) || resolved.equals(base)) {
      throw unsafe(relative);
    }
    return resolved;
  }

  private static IOException unsafe(String name) {
    String shown = name.length() > 120 ? name.substring(0, 120) + "…" : name;
    return new IOException("refusing unsafe path '" + shown.replaceAll("\\p{Cntrl}", "?") + "'");
  }
}
