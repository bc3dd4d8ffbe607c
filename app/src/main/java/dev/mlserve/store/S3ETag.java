package dev.mlserve.store;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An S3 ETag as a listing reports it. For a single-part upload without SSE-KMS/SSE-C it is the MD5
 * of the content; for a multipart upload it is {@code md5(md5(part1) || ... || md5(partN))-N}.
 *
 * @param quoted the ETag as S3 sent it (with quotes), for {@code If-Match}
 * @param md5Hex the hex digest part
 * @param parts 0 for a single-part upload, else the number of parts
 */
record S3ETag(String quoted, String md5Hex, int parts) {
  private static final Pattern FORM = Pattern.compile("\"?([0-9a-fA-F]{32})(?:-([0-9]{1,5}))?\"?");

  /** Parses an ETag; empty when it has neither form (some stores use other schemes). */
  static Optional<S3ETag> parse(String etag) {
    if (etag == null) {
      return Optional.empty();
    }
    Matcher m = FORM.matcher(etag.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    int parts = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
    String quoted = etag.trim().startsWith("\"") ? etag.trim() : "\"" + etag.trim() + "\"";
    return Optional.of(new S3ETag(quoted, m.group(1).toLowerCase(Locale.ROOT), parts));
  }

  boolean multipart() {
    return parts > 0;
  }

  @Override
  public String toString() {
    return md5Hex + (parts > 0 ? "-" + parts : "");
  }
}
