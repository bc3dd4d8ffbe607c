package dev.mlserve.batch;

import dev.mlserve.store.S3Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.commons.io.input.BoundedInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/** The few S3 calls the job makes, with errors turned into IOExceptions that name the object. */
final class BatchStore {
  private final S3Client s3;
  private final long multipartBytes;

  BatchStore(S3Client s3) {
    this(s3, MULTIPART_BYTES);
  }

  /** With another multipart threshold (tests: small files through the multipart path). */
  BatchStore(S3Client s3, long multipartBytes) {
    this.s3 = s3;
    this.multipartBytes = multipartBytes;
  }

  /** Objects under a folder, in key order. */
  List<S3Object> list(String bucket, String folder) throws IOException {
    try {
      List<S3Object> out = new ArrayList<>();
      s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(folder)).contents().forEach(out::add);
      return out;
    } catch (SdkException e) {
      throw new IOException("cannot list s3://" + bucket + "/" + folder + ": " + e.getMessage(), e);
    }
  }

  /** An object's size, or empty when it does not exist. */
  Optional<Long> size(String bucket, String key) throws IOException {
    try {
      return Optional.of(s3.headObject(b -> b.bucket(bucket).key(key)).contentLength());
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
      if (e.statusCode() == 404) {
        return Optional.empty();
      }
      throw failed("read", bucket, key, e);
    } catch (SdkException e) {
      throw failed("read", bucket, key, e);
    }
  }

  /** A stream of the object from byte {@code from} to its end; the caller closes it. */
  InputStream openFrom(String bucket, String key, long from) throws IOException {
    try {
      return s3.getObject(b -> b.bucket(bucket).key(key).range("bytes=" + from + "-"));
    } catch (SdkException e) {
      throw failed("read", bucket, key, e);
    }
  }

  Optional<byte[]> read(String bucket, String key) throws IOException {
    try {
      return Optional.of(s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray());
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (SdkException e) {
      throw failed("read", bucket, key, e);
    }
  }

  /** Appends a whole object to a local file. */
  void appendTo(String bucket, String key, java.io.OutputStream out) throws IOException {
    try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(key))) {
      in.transferTo(out);
    } catch (SdkException e) {
      throw failed("read", bucket, key, e);
    }
  }

  /**
   * Uploads a local file: one PUT up to {@link #MULTIPART_BYTES}, a multipart upload above (a
   * single PUT stops at 5 GB, and a merged output can be larger than any part).
   */
  void put(String bucket, String key, Path file, String contentType) throws IOException {
    long size = Files.size(file);
    if (size > multipartBytes) {
      putMultipart(bucket, key, file, size, contentType);
      return;
    }
    try {
      s3.putObject(
          b -> b.bucket(bucket).key(key).contentType(contentType), RequestBody.fromFile(file));
    } catch (SdkException e) {
      throw failed("write", bucket, key, e);
    }
  }

  /** Files above this go up in parts (S3: 5 MiB to 5 GiB each, at most 10,000). */
  static final long MULTIPART_BYTES = 64L << 20;

  private static final int MAX_PARTS = 10_000;

  /**
   * Parts of {@code max(MULTIPART_BYTES, size / 10,000)} bytes read straight from the file, each
   * with a CRC32 that S3 checks, and the upload aborted on any failure (no orphaned parts billed).
   */
  private void putMultipart(String bucket, String key, Path file, long size, String contentType)
      throws IOException {
    long partBytes = Math.max(multipartBytes, (size + MAX_PARTS - 1) / MAX_PARTS);
    String uploadId;
    try {
      uploadId =
          s3.createMultipartUpload(
                  b ->
                      b.bucket(bucket)
                          .key(key)
                          .contentType(contentType)
                          .checksumAlgorithm(ChecksumAlgorithm.CRC32))
              .uploadId();
    } catch (SdkException e) {
      throw failed("write", bucket, key, e);
    }
    try {
      List<CompletedPart> parts = new ArrayList<>();
      for (long offset = 0; offset < size; offset += partBytes) {
        int number = parts.size() + 1;
        long start = offset;
        long length = Math.min(partBytes, size - offset);
        UploadPartResponse r =
            s3.uploadPart(
                b ->
                    b.bucket(bucket)
                        .key(key)
                        .uploadId(uploadId)
                        .partNumber(number)
                        .checksumAlgorithm(ChecksumAlgorithm.CRC32),
                RequestBody.fromContentProvider(
                    () -> range(file, start, length), length, contentType));
        parts.add(
            CompletedPart.builder()
                .partNumber(number)
                .eTag(r.eTag())
                .checksumCRC32(r.checksumCRC32())
                .build());
      }
      s3.completeMultipartUpload(
          b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
    } catch (RuntimeException e) {
      try {
        s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
      } catch (SdkException abort) {
        e.addSuppressed(abort);
      }
      throw new IOException("cannot write s3://" + bucket + "/" + key + ": " + e.getMessage(), e);
    }
  }

  /** Bytes {@code [start, start + length)} of a file, opened afresh for every (re)try. */
  private static InputStream range(Path file, long start, long length) {
    try {
      FileChannel ch = FileChannel.open(file, StandardOpenOption.READ).position(start);
      return BoundedInputStream.builder()
          .setInputStream(Channels.newInputStream(ch))
          .setMaxCount(length)
          .get();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void put(String bucket, String key, byte[] content, String contentType) throws IOException {
    try {
      s3.putObject(
          b -> b.bucket(bucket).key(key).contentType(contentType), RequestBody.fromBytes(content));
    } catch (SdkException e) {
      throw failed("write", bucket, key, e);
    }
  }

  void delete(String bucket, String key) throws IOException {
    try {
      s3.deleteObject(b -> b.bucket(bucket).key(key));
    } catch (SdkException e) {
      throw failed("delete", bucket, key, e);
    }
  }

  /** A private temp file for an output on its way to S3. */
  static Path tempFile(Path dir, String suffix) throws IOException {
    Files.createDirectories(dir);
    return Files.createTempFile(dir, "batch-", suffix);
  }

  static String uri(S3Location base, String relative) {
    return "s3://" + base.bucket() + "/" + base.key(relative);
  }

  private static IOException failed(String what, String bucket, String key, SdkException e) {
    return new IOException(
        "cannot " + what + " s3://" + bucket + "/" + key + ": " + e.getMessage(), e);
  }
}
