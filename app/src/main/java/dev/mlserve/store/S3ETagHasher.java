package dev.mlserve.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Computes what S3's ETag would be for the bytes fed to it: the plain MD5, or, when the part size
 * is known, the multipart form {@code md5(md5(part1) || ...)-N}. It assumes equal parts (all but
 * the last), which is how the AWS CLI, the SDKs' transfer managers and boto3 upload.
 */
final class S3ETagHasher {
  private final MessageDigest whole = md5();
  private final long partSize;
  private final MessageDigest part;
  private final MessageDigest ofParts;
  private long inPart;
  private int parts;

  /**
   * @param partSize the multipart part size, or 0 for a single-part object
   */
  S3ETagHasher(long partSize) {
    this.partSize = partSize;
    this.part = partSize > 0 ? md5() : null;
    this.ofParts = partSize > 0 ? md5() : null;
  }

  void update(byte[] b, int off, int len) {
    if (part == null) {
      whole.update(b, off, len);
      return;
    }
    while (len > 0) {
      int n = (int) Math.min(len, partSize - inPart);
      part.update(b, off, n);
      inPart += n;
      off += n;
      len -= n;
      if (inPart == partSize) {
        endPart();
      }
    }
  }

  private void endPart() {
    ofParts.update(part.digest());
    parts++;
    inPart = 0;
  }

  /** The ETag of everything fed so far, without quotes; call once. */
  String etag() {
    if (part == null) {
      return HexFormat.of().formatHex(whole.digest());
    }
    if (inPart > 0 || parts == 0) {
      endPart();
    }
    return HexFormat.of().formatHex(ofParts.digest()) + "-" + parts;
  }

  private static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has MD5", e);
    }
  }
}
