package dev.mlserve.config;

import dev.mlserve.errors.ServingException;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The strict forms of model names, labels, signature keys and versions. Anything from a URL, a
 * request body or a bucket listing passes through here before it names a file or an S3 key, so
 * nothing like {@code ../} ever reaches a path.
 */
public final class Identifiers {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

  private Identifiers() {}

  public static boolean isName(String s) {
    return s != null && NAME.matcher(s).matches() && !s.contains("..");
  }

  /** A model name, label or variant name. */
  public static String requireName(String what, String s) {
    if (!isName(s)) {
      throw ServingException.badRequest(
          "invalid "
              + what
              + " '"
              + abbreviate(s)
              + "': use letters, digits, '.', '_', '-' (max 64)");
    }
    return s;
  }

  /** A positive version number, or empty when {@code s} is not one. */
  public static OptionalLong parseVersion(String s) {
    if (s == null || !VERSION.matcher(s).matches()) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Long.parseLong(s));
  }

  public static long requireVersion(String s) {
    OptionalLong v = parseVersion(s);
    if (v.isEmpty()) {
      throw ServingException.badRequest(
          "invalid version '" + abbreviate(s) + "': versions are positive whole numbers");
    }
    return v.getAsLong();
  }

  private static String abbreviate(String s) {
    if (s == null) {
      return "";
    }
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
