package dev.mlserve.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/**
 * Streams one listed object to a consumer and then proves it got exactly what was listed:
 *
 * <ul>
 *   <li>{@code If-Match} the listed ETag, so an object replaced since the listing is refused (412);
 *   <li>the byte count equals the listed size;
 *   <li>single-part objects: the MD5 equals the ETag; multipart objects: the MD5 of part MD5s, with
 *       the part size asked of S3 ({@code HEAD ?partNumber=1}), or the size only where the server
 *       cannot say (S3Proxy) — SSE-KMS and SSE-C ETags are not MD5s, so there the size and the
 *       SDK's own checksum validation stand;
 *   <li>the SDK validates the object's stored CRC/SHA checksum when S3 returns one.
 * </ul>
 *
 * The consumer sees the bytes before they are verified: it must write to a staging place that is
 * thrown away when this throws.
 */
final class S3ObjectDownload {
  private static final Logger log = LoggerFactory.getLogger(S3ObjectDownload.class);

  /** Objects at least this big get progress lines in the log. */
  static final long PROGRESS_THRESHOLD = 8L * 1024 * 1024;

  private final S3Client s3;
  private final String bucket;

  S3ObjectDownload(S3Client s3, String bucket) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  /**
   * Reads the bytes of a listed object. It may stop early or close the stream: the download reads
   * whatever is left itself, so the checksum always covers the whole object.
   */
  interface Consumer {
    void accept(InputStream in) throws IOException;
  }

  void fetch(S3VersionListing.Item item, Consumer consumer) throws IOException {
    String uri = "s3://" + bucket + "/" + item.key();
    Optional<S3ETag> etag = S3ETag.parse(item.eTag());
    long partSize = etag.filter(S3ETag::multipart).map(e -> partSize(item, e)).orElse(0L);
    S3ETagHasher hasher = new S3ETagHasher(partSize);
    long start = System.nanoTime();
    GetObjectResponse response;
    long read;
    ResponseInputStream<GetObjectResponse> body = null;
    boolean complete = false;
    try {
      body =
          s3.getObject(
              b -> {
                b.bucket(bucket).key(item.key()).checksumMode(ChecksumMode.ENABLED);
                etag.ifPresent(e -> b.ifMatch(e.quoted()));
              });
      response = body.response();
      Verifying in = new Verifying(body, hasher, new Progress(uri, item.size(), start));
      consumer.accept(in);
      in.transferTo(
          OutputStream.nullOutputStream()); // the hash covers every byte, even after the tar end
      read = in.count;
      complete = true;
    } catch (S3Exception e) {
      if (e.statusCode() == 412) {
        throw new IOException(uri + " changed since it was listed; will retry on the next poll");
      }
      throw new IOException("cannot download " + uri + ": " + e.getMessage(), e);
    } catch (SdkException e) {
      throw new IOException("cannot download " + uri + ": " + e.getMessage(), e);
    } finally {
      if (body != null) {
        if (!complete) {
          body.abort(); // else closing would read the rest of a refused multi-GB object to reuse
          // the connection
        }
        body.close();
      }
    }
    if (read != item.size()) {
      throw new IOException(
          uri + ": got " + read + " bytes but the listing says " + item.size() + "; refusing it");
    }
    verifyETag(uri, item, etag, partSize, hasher.etag(), response);
    double seconds = (System.nanoTime() - start) / 1e9;
    if (item.size() >= PROGRESS_THRESHOLD) {
      log.info(
          "downloaded {} ({}) in {} s",
          uri,
          Progress.mib(item.size()),
          String.format("%.1f", seconds));
    } else {
      log.debug("downloaded {} ({} bytes)", uri, item.size());
    }
  }

  private static void verifyETag(
      String uri,
      S3VersionListing.Item item,
      Optional<S3ETag> etag,
      long partSize,
      String computed,
      GetObjectResponse response)
      throws IOException {
    if (etag.isEmpty()) {
      log.debug("{}: ETag '{}' is not an MD5 form; verified by size only", uri, item.eTag());
      return;
    }
    if (!md5Comparable(response)) {
      log.debug(
          "{}: encrypted with {}; its ETag is no MD5, verified by size", uri, encryption(response));
      return;
    }
    S3ETag expected = etag.get();
    if (expected.multipart() && partSize == 0) {
      log.debug("{}: multipart ETag and the part size is unknown; verified by size", uri);
      return;
    }
    if (!computed.equals(expected.toString())) {
      throw new IOException(
          uri
              + ": content does not match its ETag (expected "
              + expected
              + ", got "
              + computed
              + "); refusing it");
    }
  }

  /** SSE-KMS, DSSE-KMS and SSE-C objects have ETags that are not MD5 digests of their content. */
  private static boolean md5Comparable(GetObjectResponse response) {
    ServerSideEncryption sse = response.serverSideEncryption();
    boolean kms = sse == ServerSideEncryption.AWS_KMS || sse == ServerSideEncryption.AWS_KMS_DSSE;
    return !kms && response.sseCustomerAlgorithm() == null;
  }

  private static String encryption(GetObjectResponse response) {
    return response.sseCustomerAlgorithm() != null
        ? "SSE-C"
        : response.serverSideEncryptionAsString();
  }

  /** The size of part 1 of a multipart object, or 0 when the server does not say. */
  private long partSize(S3VersionListing.Item item, S3ETag etag) {
    try {
      // No If-Match here: moto answers a part HEAD with the part's own ETag and checks If-Match
      // against that. The GET's If-Match already refuses an object replaced since the listing.
      HeadObjectResponse head = s3.headObject(b -> b.bucket(bucket).key(item.key()).partNumber(1));
      Integer parts = head.partsCount();
      Long length = head.contentLength();
      if (parts != null && parts == etag.parts() && length != null && length > 0) {
        return length;
      }
    } catch (SdkException e) {
      log.debug("s3://{}/{}: part size unknown ({})", bucket, item.key(), e.getMessage());
    }
    return 0;
  }

  /** Counts and hashes what passes through, and reports progress. */
  private static final class Verifying extends FilterInputStream {
    private final S3ETagHasher hasher;
    private final Progress progress;
    long count;

    Verifying(InputStream in, S3ETagHasher hasher, Progress progress) {
      super(in);
      this.hasher = hasher;
      this.progress = progress;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        hasher.update(b, off, n);
        count += n;
        progress.at(count);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      // Skipped bytes must still be hashed.
      byte[] buf = new byte[(int) Math.min(n, 8192)];
      int r = read(buf, 0, buf.length);
      return Math.max(r, 0);
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    @Override
    public void close() {
      // The download owns the SDK stream; a consumer closing its reader must not cut it short.
    }
  }

  /** Logs every 10 % of a large object, with the rate so far. */
  private static final class Progress {
    private final String uri;
    private final long total;
    private final long start;
    private int nextPercent = 10;

    Progress(String uri, long total, long start) {
      this.uri = uri;
      this.total = total;
      this.start = start;
    }

    void at(long bytes) {
      if (total < PROGRESS_THRESHOLD || bytes * 100 < (long) nextPercent * total) {
        return;
      }
      int percent = (int) Math.min(100, bytes * 100 / total);
      double seconds = Math.max((System.nanoTime() - start) / 1e9, 1e-3);
      log.info(
          "downloading {}: {}% of {} at {} MB/s",
          uri, percent, mib(total), String.format("%.1f", bytes / 1e6 / seconds));
      nextPercent = (percent / 10 + 1) * 10;
    }

    static String mib(long bytes) {
      return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
  }
}
