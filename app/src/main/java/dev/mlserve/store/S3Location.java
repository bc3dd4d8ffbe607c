package dev.mlserve.store;

/**
 * A bucket and key prefix parsed from {@code s3://bucket/prefix}. The prefix has no leading or
 * trailing slash; empty means the bucket's root.
 */
public record S3Location(String bucket, String prefix) {

  /** Parses {@code s3://bucket[/prefix][/]}; throws with a readable message otherwise. */
  public static S3Location parse(String uri) {
    if (uri == null || !uri.startsWith("s3://")) {
      throw new IllegalArgumentException("expected s3://bucket/prefix but got '" + uri + "'");
    }
    String rest = uri.substring("s3://".length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String prefix = slash < 0 ? "" : rest.substring(slash + 1);
    while (prefix.endsWith("/")) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
    // Roughly S3's bucket rules (loose enough for legacy us-east-1 names with capitals or
    // underscores), so a typo fails at start rather than as an opaque error on every poll.
    if (!bucket.matches("[A-Za-z0-9][A-Za-z0-9._-]{1,254}")) {
      throw new IllegalArgumentException("invalid bucket name '" + bucket + "' in " + uri);
    }
    if (prefix.startsWith("/") || prefix.contains("//")) {
      throw new IllegalArgumentException("invalid key prefix '" + prefix + "' in " + uri);
    }
    return new S3Location(bucket, prefix);
  }

  /** The key of {@code relative} under the prefix. */
  public String key(String relative) {
    return prefix.isEmpty() ? relative : prefix + "/" + relative;
  }

  /** The prefix as a folder: empty or ending in {@code /}, for listings. */
  public String folder() {
    return prefix.isEmpty() ? "" : prefix + "/";
  }

  @Override
  public String toString() {
    return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
  }
}
