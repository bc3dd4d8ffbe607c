package dev.mlserve.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserve.s3.S3ProxyFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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
 * Output files larger than the multipart threshold go up in parts (a single PUT stops at 5 GB),
 * against S3Proxy: the object is byte for byte the file, and a failed part aborts the upload.
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
    final List<String> seen = new ArrayList<>();
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

  private static Path file(String name, int bytes) throws IOException {
    byte[] b = new byte[bytes];
    new Random(bytes).nextBytes(b);
    return Files.write(tmp.resolve(name), b);
  }

  @Test
  void aFileOverTheThresholdGoesUpInPartsAndReadsBackWhole() throws Exception {
    Parts parts = new Parts();
    S3Client client = s3.client(parts);
    Path f = file("big.out", (int) (2 * PART + 12_345));
    new BatchStore(client, PART).put(BUCKET, "out/big.out", f, "application/x-ndjson");

    assertThat(parts.seen).containsExactly("1:CRC32", "2:CRC32", "3:CRC32");
    assertThat(s3.get(BUCKET, "out/big.out")).isEqualTo(Files.readAllBytes(f));
    assertThat(client.headObject(b -> b.bucket(BUCKET).key("out/big.out")).contentType())
        .isEqualTo("application/x-ndjson");
  }

  @Test
  void aFileAtTheThresholdIsOnePut() throws Exception {
    Parts parts = new Parts();
    Path f = file("small.out", (int) PART);
    new BatchStore(s3.client(parts), PART).put(BUCKET, "out/small.out", f, "text/plain");
    assertThat(parts.seen).isEmpty();
    assertThat(s3.get(BUCKET, "out/small.out")).isEqualTo(Files.readAllBytes(f));
  }

  @Test
  void aFailedPartAbortsTheUploadAndLeavesNoObject() throws Exception {
    Parts parts = new Parts();
    parts.failPart = 2;
    S3Client client = s3.client(parts);
    Path f = file("lost.out", (int) (2 * PART + 1));
    assertThatThrownBy(() -> new BatchStore(client, PART).put(BUCKET, "out/lost.out", f, "x/y"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("s3://" + BUCKET + "/out/lost.out")
        .hasMessageContaining("part 2 lost on the way");
    assertThat(s3.list(BUCKET, "out/lost.out")).isEmpty();
    assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
  }
}
