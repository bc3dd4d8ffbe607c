package dev.mlserve.batch;

import dev.mlserve.store.S3Location;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/** The few S3 calls the job makes, with errors turned into IOExceptions that name the object. */
final class BatchStore {
  private final S3Client s3;

  BatchStore(S3Client s3) {
    this.s3 = s3;
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

  void put(String bucket, String key, Path file, String contentType) throws IOException {
    try {
      s3.putObject(
          b -> b.bucket(bucket).key(key).contentType(contentType), RequestBody.fromFile(file));
    } catch (SdkException e) {
      throw failed("write", bucket, key, e);
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
