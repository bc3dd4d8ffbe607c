package dev.mlserve.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserve.s3.S3ProxyFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * The job's outputs in S3, against S3Proxy: an output above the multipart threshold goes up in
 * parts while it is written and reads back byte for byte; a failed or discarded upload leaves no
 * object and no upload behind; the merge joins parts' files inside S3 when S3's part bounds allow.
 */
class BatchStoreTest {
  private static final String BUCKET = "store-test";
  private static final long PART = 5L << 20; // S3's smallest part but the last
  @TempDir static Path tmp;
  static S3ProxyFixture s3;

  @BeforeAll
  static void start() {
    s3 = S3ProxyFixture.start();
    s3.createBucket(BUCKET);
  }

  @AfterAll
  static void stop() {
    s3.close();
  }

  /** Records the part numbers and checksum algorithms of UploadPart calls; fails one on demand. */
  static final class Parts implements ExecutionInterceptor {
    final List<String> seen = new CopyOnWriteArrayList<>(); // parts go up on another thread
    int failPart = -1;

    @Override
    public void beforeExecution(Context.BeforeExecution c, ExecutionAttributes a) {
      SdkRequest r = c.request();
      if (r instanceof UploadPartRequest up) {
        seen.add(up.partNumber() + ":" + up.checksumAlgorithmAsString());
        if (up.partNumber() == failPart) {
          throw new IllegalStateException("part " + failPart + " lost on the way");
        }
      }
    }
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  /** Writes {@code content} to an upload in 64 KiB writes, as the job's writer does. */
  private static void writeAll(BatchStore.Upload upload, byte[] content) throws IOException {
    for (int off = 0; off < content.length; off += 1 << 16) {
      upload.write(content, off, Math.min(1 << 16, content.length - off));
    }
  }

  private static void await(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void anOutputOverTheThresholdGoesUpInPartsWhileItIsWritten() throws Exception {
    Parts parts = new Parts();
    S3Client client = s3.client(parts);
    byte[] content = bytes((int) (3 * PART + 12_345));
    Path spool = tmp.resolve("big.out");
    BatchStore.Upload upload =
        new BatchStore(client, PART).upload(BUCKET, "out/big.out", spool, "application/x-ndjson");
    try {
      writeAll(upload, content);
      // Two full parts have gone up while the writer was still open; the object is not there.
      await("parts 1 and 2 sent before complete()", () -> parts.seen.size() == 2);
      assertThat(parts.seen).containsExactly("1:CRC32", "2:CRC32");
      assertThat(s3.list(BUCKET, "out/big.out")).isEmpty();
      upload.close();
      upload.complete();
    } finally {
      upload.discard();
    }
    assertThat(parts.seen).containsExactly("1:CRC32", "2:CRC32", "3:CRC32");
    assertThat(s3.get(BUCKET, "out/big.out")).isEqualTo(content);
    assertThat(client.headObject(b -> b.bucket(BUCKET).key("out/big.out")).contentType())
        .isEqualTo("application/x-ndjson");
    assertThat(spool).doesNotExist();
  }

  @Test
  void overHttpsAnUploadIsUnsignedWithACrc32TrailerAsInAws(@TempDir Path dir) throws Exception {
    // S3 is HTTPS: there the SDK does not hash the payload into the signature but sends it
    // aws-chunked with a CRC32 trailer that S3 checks. That is the path a task takes in AWS.
    List<String> payloads = new CopyOnWriteArrayList<>();
    ExecutionInterceptor sent =
        new ExecutionInterceptor() {
          @Override
          public void beforeTransmission(Context.BeforeTransmission c, ExecutionAttributes a) {
            if (c.request() instanceof UploadPartRequest) {
              payloads.add(
                  c.httpRequest().firstMatchingHeader("x-amz-content-sha256").orElse("")
                      + " "
                      + c.httpRequest().firstMatchingHeader("x-amz-trailer").orElse(""));
            }
          }
        };
    try (S3ProxyFixture https = S3ProxyFixture.startHttps(dir.resolve("s3"))) {
      https.createBucket(BUCKET);
      byte[] content = bytes((int) (2 * PART + 99));
      BatchStore.Upload upload =
          new BatchStore(https.client(sent), PART)
              .upload(BUCKET, "tls/big.out", dir.resolve("big.out"), "application/x-ndjson");
      try {
        writeAll(upload, content);
        upload.close();
        upload.complete();
      } finally {
        upload.discard();
      }
      assertThat(https.endpoint().getScheme()).isEqualTo("https");
      assertThat(https.get(BUCKET, "tls/big.out")).isEqualTo(content);
      assertThat(payloads)
          .hasSize(2)
          .allMatch(p -> p.equals("STREAMING-UNSIGNED-PAYLOAD-TRAILER x-amz-checksum-crc32"));
    }
  }

  @Test
  void partsGrowSoThatTenThousandHoldS3sLargestObject() {
    long base = BatchStore.MULTIPART_BYTES;
    assertThat(BatchStore.partBytes(base, 0)).isEqualTo(16L << 20);
    assertThat(BatchStore.partBytes(base, 999)).isEqualTo(16L << 20);
    assertThat(BatchStore.partBytes(base, 1_000)).isEqualTo(32L << 20);
    assertThat(BatchStore.partBytes(base, 6_000)).isEqualTo(1L << 30);
    assertThat(BatchStore.partBytes(base, 8_000)).isEqualTo(4L << 30);
    assertThat(BatchStore.partBytes(base, 9_999)).isEqualTo(4L << 30); // never over S3's 5 GiB
    long total = 0;
    for (int sent = 0; sent < 10_000; sent++) {
      total += BatchStore.partBytes(base, sent);
    }
    assertThat(total).isGreaterThanOrEqualTo(5L << 40); // S3's largest object: 5 TiB
    assertThat(BatchStore.partBytes(PART, 0)).isEqualTo(PART); // the tests' small threshold
  }

  @Test
  void anOutputAtTheThresholdIsOnePut() throws Exception {
    Parts parts = new Parts();
    byte[] content = bytes((int) PART);
    BatchStore.Upload upload =
        new BatchStore(s3.client(parts), PART)
            .upload(BUCKET, "out/small.out", tmp.resolve("small.out"), "text/plain");
    try (upload) {
      writeAll(upload, content);
    }
    upload.complete();
    upload.discard();
    assertThat(parts.seen).isEmpty();
    assertThat(s3.get(BUCKET, "out/small.out")).isEqualTo(content);
  }

  @Test
  void aFailedPartFailsTheUploadAndLeavesNoObject() throws Exception {
    Parts parts = new Parts();
    parts.failPart = 2;
    S3Client client = s3.client(parts);
    BatchStore.Upload upload =
        new BatchStore(client, PART).upload(BUCKET, "out/lost.out", tmp.resolve("lost.out"), "x/y");
    try {
      assertThatThrownBy(
              () -> {
                writeAll(upload, bytes((int) (3 * PART + 1)));
                upload.close();
                upload.complete();
              })
          .isInstanceOf(IOException.class)
          .hasMessageContaining("s3://" + BUCKET + "/out/lost.out")
          .hasMessageContaining("part 2 lost on the way");
    } finally {
      upload.discard();
    }
    assertThat(s3.list(BUCKET, "out/lost.out")).isEmpty();
    assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
  }

  @Test
  void aDiscardedUploadRemovesThePartsAlreadySentAndItsSpoolFile() throws Exception {
    Parts parts = new Parts();
    S3Client client = s3.client(parts);
    Path spool = tmp.resolve("dropped.out");
    BatchStore.Upload upload =
        new BatchStore(client, PART).upload(BUCKET, "out/dropped.out", spool, "x/y");
    writeAll(upload, bytes((int) (2 * PART)));
    await("part 1 sent", () -> parts.seen.size() == 1);
    upload.discard(); // e.g. the scoring failed
    assertThat(s3.list(BUCKET, "out/dropped.out")).isEmpty();
    assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
    assertThat(spool).doesNotExist();
  }

  /** Uploads {@code bytes} random bytes as {@code key}; returns its (key, size) and content. */
  private static Map.Entry<String, Long> object(String key, int bytes, ByteArrayOutputStream all)
      throws IOException {
    byte[] b = new byte[bytes];
    new Random(bytes + key.hashCode()).nextBytes(b);
    s3.put(BUCKET, key, b);
    all.write(b);
    return Map.entry(key, (long) bytes);
  }

  /** Records the S3 operations a client calls, by request class. */
  static final class Calls implements ExecutionInterceptor {
    final List<String> seen = new ArrayList<>();

    @Override
    public void beforeExecution(Context.BeforeExecution c, ExecutionAttributes a) {
      seen.add(c.request().getClass().getSimpleName());
    }
  }

  @Test
  void partsOfFiveMibOrMoreAreJoinedInsideS3InOrder() throws Exception {
    Calls calls = new Calls();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    List<Map.Entry<String, Long>> sources =
        List.of(
            object("join/p0", (int) PART + 7, all),
            object("join/empty", 0, all), // skipped: contributes no bytes, not a part
            object("join/p1", (int) PART, all),
            object("join/p2", 1_234, all)); // the last part may be small
    assertThat(
            new BatchStore(s3.client(calls))
                .concatenateInPlace(BUCKET, sources, "join/all.out", "application/x-ndjson"))
        .isTrue();
    assertThat(s3.get(BUCKET, "join/all.out")).isEqualTo(all.toByteArray());
    assertThat(calls.seen)
        .containsExactly(
            "CreateMultipartUploadRequest",
            "UploadPartCopyRequest",
            "UploadPartCopyRequest",
            "UploadPartCopyRequest",
            "CompleteMultipartUploadRequest");
  }

  @Test
  void oneNonEmptySourceIsOneCopy() throws Exception {
    Calls calls = new Calls();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    List<Map.Entry<String, Long>> sources =
        List.of(object("one/empty", 0, all), object("one/p0", 3_000, all));
    S3Client client = s3.client(calls);
    assertThat(new BatchStore(client).concatenateInPlace(BUCKET, sources, "one/all.out", "a/b"))
        .isTrue();
    assertThat(s3.get(BUCKET, "one/all.out")).isEqualTo(all.toByteArray());
    assertThat(calls.seen).containsExactly("CopyObjectRequest");
    assertThat(client.headObject(b -> b.bucket(BUCKET).key("one/all.out")).contentType())
        .isEqualTo("a/b");
  }

  @Test
  void onlyEmptySourcesGiveAnEmptyObject() throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    List<Map.Entry<String, Long>> sources = List.of(object("none/empty", 0, all));
    assertThat(
            new BatchStore(s3.client()).concatenateInPlace(BUCKET, sources, "none/all.out", "a/b"))
        .isTrue();
    assertThat(s3.get(BUCKET, "none/all.out")).isEmpty();
  }

  @Test
  void aSmallSourceBeforeTheLastIsLeftToTheCallerWithNothingWritten() throws Exception {
    Calls calls = new Calls();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    List<Map.Entry<String, Long>> sources =
        List.of(object("small/p0", (int) PART - 1, all), object("small/p1", (int) PART, all));
    assertThat(
            new BatchStore(s3.client(calls))
                .concatenateInPlace(BUCKET, sources, "small/all.out", "a/b"))
        .isFalse();
    assertThat(calls.seen).isEmpty();
    assertThat(s3.list(BUCKET, "small/all.out")).isEmpty();
  }
}
