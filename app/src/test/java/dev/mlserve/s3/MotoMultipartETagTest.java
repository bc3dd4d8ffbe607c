package dev.mlserve.s3;

import static dev.mlserve.TestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.mlserve.App;
import dev.mlserve.MotoServer;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The multipart-ETag verification of model downloads, offline: moto's S3 stores multipart uploads
 * with S3's ETag ({@code md5(md5(part1)..md5(partN))-N}) and answers {@code HEAD ?partNumber=1}
 * with the parts count and the part's size, which S3Proxy cannot. The demo model's 2.5 MB weights
 * go up in 1 MiB parts (moto's minimum part size is lowered to 256 KiB for that: the ETag rules are
 * S3's). A byte flipped on the way refuses the version, and the served one stays; the same bytes
 * unflipped then load.
 */
class MotoMultipartETagTest {
  static final String BUCKET = "models-moto";
  static final String WEIGHTS = "variables/variables.data-00000-of-00001";
  static final int PART = 1024 * 1024;
  static final String BODY = "{\"instances\": [\"great movie\"]}";
  static final double GREAT_MOVIE = 0.6193802356719971; // training/golden/imdb-sentiment-1.json

  @TempDir Path cache;

  /** Flips one byte in the middle of part 2 of version 2's weights while {@code on}. */
  static final class FlipOneByte implements ExecutionInterceptor {
    final AtomicBoolean on = new AtomicBoolean(true);
    final AtomicInteger flipped = new AtomicInteger();

    @Override
    public Optional<InputStream> modifyHttpResponseContent(
        Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
      boolean target =
          context.httpRequest().method() == SdkHttpMethod.GET
              && context.httpRequest().encodedPath().endsWith("/2/" + WEIGHTS);
      if (!on.get() || !target || context.responseBody().isEmpty()) {
        return context.responseBody();
      }
      flipped.incrementAndGet();
      return Optional.of(
          new FilterInputStream(context.responseBody().get()) {
            long position;

            @Override
            public int read() throws IOException {
              byte[] one = new byte[1];
              return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              int n = super.read(b, off, len);
              long at = PART + PART / 2;
              if (n > 0 && position <= at && at < position + n) {
                b[off + (int) (at - position)] ^= 0x01;
              }
              position += Math.max(n, 0);
              return n;
            }
          });
    }
  }

  @Test
  void aCorruptedMultipartObjectIsRefusedAndTheServedVersionStays() throws Exception {
    FlipOneByte corruption = new FlipOneByte();
    try (MotoServer moto = MotoServer.start(Map.of("S3_UPLOAD_PART_MIN_SIZE", "262144"));
        S3Client admin = client(moto);
        S3Client service = client(moto, corruption)) {
      admin.createBucket(
          b ->
              b.bucket(BUCKET)
                  .createBucketConfiguration(c -> c.locationConstraint(MotoServer.REGION.id())));
      upload(admin, 1);
      try (App app =
          App.create(
              TestSupport.config(
                  Map.of(
                      "MODEL_BASE_PATH",
                      "s3://" + BUCKET + "/models",
                      "MODEL_CACHE_DIR",
                      cache.toString())),
              service)) {
        assertThat(app.start()).isTrue();
        assertServes(app, "1");
        String etag =
            admin.headObject(b -> b.bucket(BUCKET).key(key(1, WEIGHTS))).eTag().replace("\"", "");
        assertThat(etag).as("a 3-part multipart ETag").matches("[0-9a-f]{32}-3");

        upload(admin, 2);
        app.refresh();
        assertThat(corruption.flipped.get()).isEqualTo(1);
        assertThat(TestSupport.versionState(app, TestSupport.MODEL, 2))
            .startsWith("END")
            .contains("does not match its ETag (expected " + etag);
        assertServes(app, "1");
        try (Stream<Path> cached = Files.walk(cache)) {
          assertThat(cached.map(p -> cache.relativize(p).toString()))
              .as("nothing of the refused version is left in the cache as complete")
              .noneMatch(p -> p.matches(".*imdb-sentiment/2(/.*)?$"));
        }

        corruption.on.set(false);
        assertThat(app.refresh()).isTrue();
        assertServes(app, "2");
      }
    }
  }

  private static void assertServes(App app, String version) {
    Reply r = post(app, "/v1/models/imdb-sentiment:predict", BODY);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.header("X-Model-Version")).isEqualTo(version);
    assertThat(r.json().at("/predictions/0/0").asDouble()).isCloseTo(GREAT_MOVIE, within(1e-5));
  }

  private static String key(int version, String file) {
    return "models/imdb-sentiment/" + version + "/" + file;
  }

  /** The demo version under number {@code version}: weights multipart, saved_model.pb last. */
  private static void upload(S3Client s3, int version) throws IOException {
    Path dir = TestSupport.demoVersion();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files =
          walk.filter(Files::isRegularFile)
              .sorted(
                  java.util.Comparator.comparing(
                          (Path p) -> p.getFileName().toString().equals("saved_model.pb"))
                      .thenComparing(Path::toString))
              .toList();
    }
    for (Path f : files) {
      String rel = dir.relativize(f).toString().replace('\\', '/');
      if (rel.equals(WEIGHTS)) {
        multipart(s3, key(version, rel), Files.readAllBytes(f));
      } else {
        s3.putObject(b -> b.bucket(BUCKET).key(key(version, rel)), RequestBody.fromFile(f));
      }
    }
  }

  private static void multipart(S3Client s3, String key, byte[] data) {
    String id = s3.createMultipartUpload(b -> b.bucket(BUCKET).key(key)).uploadId();
    List<CompletedPart> parts = new ArrayList<>();
    for (int off = 0, n = 1; off < data.length; off += PART, n++) {
      byte[] part = Arrays.copyOfRange(data, off, Math.min(data.length, off + PART));
      int number = n;
      String etag =
          s3.uploadPart(
                  b -> b.bucket(BUCKET).key(key).uploadId(id).partNumber(number),
                  RequestBody.fromBytes(part))
              .eTag();
      parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
    }
    s3.completeMultipartUpload(
        b -> b.bucket(BUCKET).key(key).uploadId(id).multipartUpload(m -> m.parts(parts)));
  }

  /**
   * A client configured as the service's own for an endpoint override. Uploads carry no CRC
   * checksum, so the ETag is the only guard the download has.
   */
  private static S3Client client(MotoServer moto, ExecutionInterceptor... interceptors) {
    return S3Client.builder()
        .endpointOverride(moto.endpoint())
        .forcePathStyle(true)
        .region(MotoServer.REGION)
        .credentialsProvider(moto.credentials())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .overrideConfiguration(o -> Arrays.stream(interceptors).forEach(o::addExecutionInterceptor))
        .build();
  }
}
