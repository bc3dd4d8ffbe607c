package dev.mlserve.batch;

import dev.mlserve.store.S3Location;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.input.BoundedInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartCopyResponse;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/** The few S3 calls the job makes, with errors turned into IOExceptions that name the object. */
final class BatchStore {
  private static final Logger log = LoggerFactory.getLogger(BatchStore.class);
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

  /** Appends a whole object to a stream. */
  void appendTo(String bucket, String key, java.io.OutputStream out) throws IOException {
    try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(key))) {
      in.transferTo(out);
    } catch (SdkException e) {
      throw failed("read", bucket, key, e);
    }
  }

  /**
   * Outputs above this go up in parts (S3: 5 MiB to 5 GiB each, at most 10,000). What is left to
   * send after the last row is at most this much: 16 MiB shortened that tail from 2.8 s to 2.0 s
   * (means of five runs) against 64 MiB on a 434 MB part (docs/BATCH.md).
   */
  static final long MULTIPART_BYTES = 16L << 20;

  private static final int MAX_PARTS = 10_000;

  /** The largest a part grows to: one more write keeps it under S3's 5 GiB. */
  private static final long MAX_GROWN_PART_BYTES = 4L << 30;

  /**
   * How far past the last part a spool file goes before its next part is sent: {@code base} for the
   * first 1,000 parts, doubling every 1,000 after, up to 4 GiB. S3 allows 10,000 parts: from 16 MiB
   * that holds about 11.7 TiB, more than S3's 5 TiB object limit, where fixed parts would stop at
   * 156 GiB.
   */
  static long partBytes(long base, int partsSent) {
    int doublings = Math.min(partsSent / 1_000, 16);
    return Math.max(base, Math.min(base << doublings, MAX_GROWN_PART_BYTES));
  }

  /**
   * A new object written through a local spool file and uploaded while it is written; the caller
   * writes, closes, then calls {@link Upload#complete()}, and calls {@link Upload#discard()} in a
   * finally. See {@link Upload}.
   */
  Upload upload(String bucket, String key, Path spool, String contentType) throws IOException {
    return new Upload(bucket, key, spool, contentType);
  }

  /**
   * An object written through a local spool file and sent to S3 while it is written. Each time the
   * file holds more than the multipart threshold (16 MiB, growing with the part count: {@link
   * #partBytes}) beyond the last part sent, that range goes up as the next part of a multipart
   * upload on a background thread, so the upload overlaps the writing instead of following it.
   * {@link #complete()} sends the rest and completes the upload (one PUT for a file that never
   * passed the threshold); nothing is visible under the key before it returns. {@link #discard()}
   * aborts an upload not completed (no orphaned parts billed) and deletes the spool file. Every
   * part carries a CRC32 that S3 checks, and is read from the file afresh for every SDK retry. One
   * writing thread.
   */
  final class Upload extends OutputStream {
    private final String bucket;
    private final String key;
    private final Path spool;
    private final String contentType;
    private final OutputStream file;
    private final ExecutorService sender;
    private final List<Future<CompletedPart>> parts = new ArrayList<>();
    private volatile String uploadId; // written by the sender thread, which makes the upload
    private long written;
    private long sent; // bytes handed to the sender
    private boolean completed;

    private Upload(String bucket, String key, Path spool, String contentType) throws IOException {
      this.bucket = bucket;
      this.key = key;
      this.spool = spool;
      this.contentType = contentType;
      this.file = new BufferedOutputStream(Files.newOutputStream(spool), 1 << 16);
      this.sender =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "batch-upload");
                t.setDaemon(true);
                return t;
              });
    }

    @Override
    public void write(int b) throws IOException {
      file.write(b);
      written++;
      sendFullPart();
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      file.write(b, off, len);
      written += len;
      sendFullPart();
    }

    @Override
    public void flush() throws IOException {
      file.flush();
    }

    /** Ends the writing; the upload is finished by {@link #complete()}. */
    @Override
    public void close() throws IOException {
      file.close();
    }

    /** Sends what is past the last part once it is more than the threshold (never all of it). */
    private void sendFullPart() throws IOException {
      if (written - sent <= partBytes(multipartBytes, parts.size())) {
        return; // strictly more: the file's end always leaves a last part to send
      }
      for (Future<CompletedPart> f : parts) {
        if (f.isDone()) {
          partOf(f); // an earlier part's failure fails the writer now, not at the end
        }
      }
      if (parts.size() == MAX_PARTS - 1) {
        throw new IOException(
            "s3://"
                + bucket
                + "/"
                + key
                + ": more than "
                + MAX_PARTS
                + " parts ("
                + written
                + " bytes)");
      }
      file.flush(); // the range is in the file before the sender reads it
      sendRest();
    }

    /** Hands bytes {@code [sent, written)} to the sender as the next part. */
    private void sendRest() {
      int number = parts.size() + 1;
      long start = sent;
      long length = written - sent;
      parts.add(sender.submit(() -> sendPart(number, start, length)));
      sent = written;
    }

    private CompletedPart sendPart(int number, long start, long length) {
      if (uploadId == null) {
        uploadId =
            s3.createMultipartUpload(
                    b ->
                        b.bucket(bucket)
                            .key(key)
                            .contentType(contentType)
                            .checksumAlgorithm(ChecksumAlgorithm.CRC32))
                .uploadId();
      }
      UploadPartResponse r =
          s3.uploadPart(
              b ->
                  b.bucket(bucket)
                      .key(key)
                      .uploadId(uploadId)
                      .partNumber(number)
                      .checksumAlgorithm(ChecksumAlgorithm.CRC32),
              RequestBody.fromContentProvider(
                  () -> range(spool, start, length), length, contentType));
      return CompletedPart.builder()
          .partNumber(number)
          .eTag(r.eTag())
          .checksumCRC32(r.checksumCRC32())
          .build();
    }

    private CompletedPart partOf(Future<CompletedPart> f) throws IOException {
      try {
        return f.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        throw new IOException(
            "cannot write s3://" + bucket + "/" + key + ": " + cause.getMessage(), cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted writing s3://" + bucket + "/" + key);
      }
    }

    /** Sends the rest and completes the upload: the object exists when this returns. */
    void complete() throws IOException {
      file.close();
      try {
        if (parts.isEmpty()) {
          s3.putObject(
              b -> b.bucket(bucket).key(key).contentType(contentType), RequestBody.fromFile(spool));
        } else {
          if (written > sent) {
            sendRest();
          }
          List<CompletedPart> done = new ArrayList<>();
          for (Future<CompletedPart> f : parts) {
            done.add(partOf(f));
          }
          s3.completeMultipartUpload(
              b ->
                  b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(done)));
        }
        completed = true;
      } catch (SdkException e) {
        throw failed("write", bucket, key, e);
      } finally {
        sender.shutdown();
      }
    }

    /**
     * Aborts the upload unless it completed (parts already sent are removed) and deletes the spool
     * file. Safe after {@link #complete()} and more than once.
     */
    void discard() throws IOException {
      try {
        file.close();
      } catch (IOException e) {
        // the file goes anyway
      }
      sender.shutdownNow();
      try {
        if (!completed) {
          try {
            sender.awaitTermination(1, TimeUnit.MINUTES); // a part in flight ends (or fails)
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          abort(bucket, key, uploadId);
        }
      } finally {
        Files.deleteIfExists(spool);
      }
    }
  }

  /** Aborts a multipart upload, if one was started; a failure to abort is logged, not thrown. */
  private void abort(String bucket, String key, String uploadId) {
    if (uploadId == null) {
      return;
    }
    try {
      s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
    } catch (SdkException e) {
      log.warn(
          "could not abort the multipart upload of s3://{}/{} (the bucket's lifecycle rule removes"
              + " it): {}",
          bucket,
          key,
          e.getMessage());
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

  /** S3's bounds on a multipart upload's parts, all but the last: 5 MiB to 5 GiB. */
  static final long MIN_PART_BYTES = 5L << 20;

  static final long MAX_PART_BYTES = 5L << 30;

  /**
   * Writes the concatenation of {@code sources} (in order, each with its size) to {@code key}
   * inside S3, so that the bytes never pass through this task: CopyObject for one non-empty source,
   * else a multipart upload of one UploadPartCopy per source. Empty sources are skipped. Returns
   * false, having written nothing, when S3's part bounds do not allow it (a non-last source under 5
   * MiB, or any over 5 GiB); the caller then streams the bytes instead.
   */
  boolean concatenateInPlace(
      String bucket, List<Map.Entry<String, Long>> sources, String key, String contentType)
      throws IOException {
    List<Map.Entry<String, Long>> parts =
        sources.stream().filter(source -> source.getValue() > 0).toList();
    if (parts.isEmpty()) {
      put(bucket, key, new byte[0], contentType);
      return true;
    }
    for (int i = 0; i < parts.size(); i++) {
      long size = parts.get(i).getValue();
      if (size > MAX_PART_BYTES || (i < parts.size() - 1 && size < MIN_PART_BYTES)) {
        return false;
      }
    }
    if (parts.size() == 1) {
      try {
        s3.copyObject(
            b ->
                b.sourceBucket(bucket)
                    .sourceKey(parts.get(0).getKey())
                    .destinationBucket(bucket)
                    .destinationKey(key)
                    .metadataDirective(MetadataDirective.REPLACE)
                    .contentType(contentType));
        return true;
      } catch (SdkException e) {
        throw failed("write", bucket, key, e);
      }
    }
    String uploadId;
    try {
      uploadId =
          s3.createMultipartUpload(b -> b.bucket(bucket).key(key).contentType(contentType))
              .uploadId();
    } catch (SdkException e) {
      throw failed("write", bucket, key, e);
    }
    try {
      List<CompletedPart> completed = new ArrayList<>();
      for (Map.Entry<String, Long> source : parts) {
        int number = completed.size() + 1;
        UploadPartCopyResponse r =
            s3.uploadPartCopy(
                b ->
                    b.sourceBucket(bucket)
                        .sourceKey(source.getKey())
                        .destinationBucket(bucket)
                        .destinationKey(key)
                        .uploadId(uploadId)
                        .partNumber(number));
        completed.add(
            CompletedPart.builder().partNumber(number).eTag(r.copyPartResult().eTag()).build());
      }
      s3.completeMultipartUpload(
          b ->
              b.bucket(bucket)
                  .key(key)
                  .uploadId(uploadId)
                  .multipartUpload(m -> m.parts(completed)));
      return true;
    } catch (SdkException e) {
      abort(bucket, key, uploadId);
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
