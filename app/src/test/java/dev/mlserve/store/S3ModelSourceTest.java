package dev.mlserve.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserve.s3.S3ProxyFixture;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/** {@link S3ModelSource} against a real S3 API (S3Proxy in-process); model files are stand-ins. */
class S3ModelSourceTest {
  private static final AtomicInteger BUCKETS = new AtomicInteger();
  private static S3ProxyFixture s3;

  @TempDir Path cacheDir;
  @TempDir Path work;
  private String bucket;

  @BeforeAll
  static void startS3() {
    s3 = S3ProxyFixture.start();
  }

  @AfterAll
  static void stopS3() {
    s3.close();
  }

  @BeforeEach
  void freshBucket() {
    bucket = "models-" + BUCKETS.incrementAndGet();
    s3.createBucket(bucket);
  }

  @Test
  void listsValidModelsAndOnlyCompleteVersions() throws IOException {
    putVersion(
        "models/alpha/1", Map.of("saved_model.pb", "pb1", "variables/variables.index", "i1"));
    // Half uploaded: everything but saved_model.pb, which the uploader puts last.
    put("models/alpha/2/variables/variables.index", "i2");
    put("models/alpha/3.tar.gz", "not read by a listing");
    put("models/alpha/0007/saved_model.pb", "leading zeros: not a version");
    put("models/alpha/latest/saved_model.pb", "a word: not a version");
    put("models/alpha/serving.json", "{\"version_policy\": \"all\"}");
    put("models/alpha/notes.txt", "ignored");
    put("models/beta/4/saved_model.pb", "pb4");
    put("models/_hidden/1/saved_model.pb", "invalid model name");
    put("models/bad..name/1/saved_model.pb", "invalid model name");
    put("elsewhere/gamma/1/saved_model.pb", "outside the prefix");

    S3ModelSource source = source("s3://" + bucket + "/models/");

    assertThat(source.describe()).isEqualTo("s3://" + bucket + "/models");
    assertThat(source.models()).containsExactly("alpha", "beta");
    assertThat(source.versions("alpha")).containsExactly(1L, 3L);
    assertThat(source.versions("beta")).containsExactly(4L);
    assertThat(source.versions("absent")).isEmpty();
    assertThat(source.settings("alpha")).map(String::new).contains("{\"version_policy\": \"all\"}");
    assertThat(source.settings("beta")).isEmpty();
  }

  @Test
  void worksAtTheBucketRoot() throws IOException {
    putVersion("alpha/1", Map.of("saved_model.pb", "pb1"));
    S3ModelSource source = source("s3://" + bucket);
    assertThat(source.models()).containsExactly("alpha");
    assertThat(read(source.materialize("alpha", 1).resolve("saved_model.pb"))).isEqualTo("pb1");
  }

  @Test
  void downloadsAVersionIntoTheCacheAndVerifiesIt() throws IOException {
    Map<String, String> files =
        Map.of(
            "saved_model.pb", "graph",
            "variables/variables.index", "index",
            "variables/variables.data-00000-of-00001", "weights",
            "assets.extra/model-card.json", "{}");
    putVersion("models/alpha/1", files);
    S3ModelSource source = source("s3://" + bucket + "/models");

    Path dir = source.materialize("alpha", 1);

    assertThat(dir).isEqualTo(cacheDir.resolve("alpha").resolve("1"));
    files.forEach((name, content) -> assertThat(read(dir.resolve(name))).isEqualTo(content));
    assertThat(dir.resolve(ModelCache.MARKER)).isRegularFile();
    assertThat(stagingEntries()).isEmpty();
  }

  @Test
  void reusesAVerifiedCachedCopyAndDownloadsAgainWhenTheObjectsChange() throws IOException {
    putVersion(
        "models/alpha/1", Map.of("saved_model.pb", "graph", "variables/variables.index", "v1"));
    Path first = source("s3://" + bucket + "/models").materialize("alpha", 1);
    Object inode = Files.readAttributes(first.resolve("saved_model.pb"), "unix:ino").get("ino");

    // A new source, as after a restart: the copy on disk matches the listing, so no download.
    Path again = source("s3://" + bucket + "/models").materialize("alpha", 1);
    assertThat(again).isEqualTo(first);
    assertThat(Files.readAttributes(again.resolve("saved_model.pb"), "unix:ino").get("ino"))
        .isEqualTo(inode);

    // The same version re-uploaded with other content (new ETag): the stale copy is replaced.
    put("models/alpha/1/variables/variables.index", "v1-fixed");
    Path replaced = source("s3://" + bucket + "/models").materialize("alpha", 1);
    assertThat(read(replaced.resolve("variables/variables.index"))).isEqualTo("v1-fixed");
    assertThat(Files.readAttributes(replaced.resolve("saved_model.pb"), "unix:ino").get("ino"))
        .isNotEqualTo(inode);
  }

  @Test
  void downloadsAgainWhenTheCachedCopyWasDamaged() throws IOException {
    putVersion(
        "models/alpha/1", Map.of("saved_model.pb", "graph", "variables/variables.index", "index"));
    S3ModelSource source = source("s3://" + bucket + "/models");
    Path dir = source.materialize("alpha", 1);
    Files.write(
        dir.resolve("variables/variables.index"),
        new byte[0],
        StandardOpenOption.TRUNCATE_EXISTING);

    Path again = source("s3://" + bucket + "/models").materialize("alpha", 1);

    assertThat(read(again.resolve("variables/variables.index"))).isEqualTo("index");
  }

  @Test
  void refusesContentThatDoesNotMatchItsETag() throws IOException {
    putVersion(
        "models/alpha/1", Map.of("saved_model.pb", "graph", "variables/variables.index", "index"));
    // A byte flipped in transit, after TCP and TLS had their say: only the ETag check can see it.
    S3Client corrupting = s3.client(bodyRewriter("variables.index", Rewrite.FLIP_FIRST_BYTE));
    S3ModelSource source =
        new S3ModelSource(corrupting, S3Location.parse("s3://" + bucket + "/models"), cacheDir);

    assertThatThrownBy(() -> source.materialize("alpha", 1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("variables.index")
        .hasMessageContaining("does not match its ETag");
    assertThat(cacheDir.resolve("alpha").resolve("1")).doesNotExist();
    assertThat(stagingEntries()).isEmpty();

    // Nothing half-written stays behind: a clean client downloads the version afterwards.
    assertThat(
            read(
                source("s3://" + bucket + "/models")
                    .materialize("alpha", 1)
                    .resolve("saved_model.pb")))
        .isEqualTo("graph");
  }

  @Test
  void refusesATruncatedTransfer() throws IOException {
    putVersion("models/alpha/1", Map.of("saved_model.pb", "graph-bytes"));
    S3Client truncating = s3.client(bodyRewriter("saved_model.pb", Rewrite.DROP_LAST_BYTE));
    S3ModelSource source =
        new S3ModelSource(truncating, S3Location.parse("s3://" + bucket + "/models"), cacheDir);

    assertThatThrownBy(() -> source.materialize("alpha", 1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("saved_model.pb")
        .hasMessageContaining("got 10 bytes but the listing says 11");
    assertThat(cacheDir.resolve("alpha").resolve("1")).doesNotExist();
  }

  @Test
  void refusesAnObjectReplacedBetweenListingAndDownload() throws IOException {
    putVersion(
        "models/alpha/1", Map.of("saved_model.pb", "graph", "variables/variables.index", "old"));
    // Another uploader overwrites the object the moment our GET is about to go out.
    ExecutionInterceptor racingUpload =
        new ExecutionInterceptor() {
          @Override
          public void beforeExecution(Context.BeforeExecution ctx, ExecutionAttributes attrs) {
            if (ctx.request() instanceof GetObjectRequest g
                && g.key().endsWith("variables.index")) {
              put("models/alpha/1/variables/variables.index", "new");
            }
          }
        };
    S3ModelSource source =
        new S3ModelSource(
            s3.client(racingUpload), S3Location.parse("s3://" + bucket + "/models"), cacheDir);

    assertThatThrownBy(() -> source.materialize("alpha", 1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("changed since it was listed");
    assertThat(cacheDir.resolve("alpha").resolve("1")).doesNotExist();
  }

  @Test
  void verifiesLargeMultipartObjectsAndLogsProgress() throws IOException {
    byte[] big = new byte[9 * 1024 * 1024 + 1000];
    new Random(7).nextBytes(big);
    put("models/alpha/1/saved_model.pb", "graph");
    String etag =
        multipartUpload(
            "models/alpha/1/variables/variables.data-00000-of-00001", big, 5 * 1024 * 1024);
    assertThat(etag).endsWith("-2\"");

    Path dir;
    try (LogCapture log = LogCapture.of(S3ObjectDownload.class)) {
      dir = source("s3://" + bucket + "/models").materialize("alpha", 1);
      assertThat(log.lines())
          .anyMatch(
              l ->
                  l.matches(
                      "downloading s3://.*/variables.data-00000-of-00001: 50% of 9.0 MiB at [0-9.]+ MB/s"))
          .anyMatch(l -> l.contains(": 100% of 9.0 MiB"));
    }

    assertThat(Files.readAllBytes(dir.resolve("variables/variables.data-00000-of-00001")))
        .isEqualTo(big);
    // The multipart ETag form, recomputed from the bytes, equals the one the server made.
    S3ETagHasher hasher = new S3ETagHasher(5 * 1024 * 1024);
    hasher.update(big, 0, big.length);
    assertThat(hasher.etag()).isEqualTo(S3ETag.parse(etag).orElseThrow().toString());
  }

  @Test
  void extractsATarGzVersionMadeByGnuTar() throws Exception {
    Path v = work.resolve("v");
    write(v.resolve("saved_model.pb"), "graph");
    write(v.resolve("variables/variables.index"), "index");
    write(v.resolve("assets/vocab.txt"), "the\nmovie\n");
    Path archive = work.resolve("5.tar.gz");
    run(work, "tar", "-czf", archive.toString(), "-C", v.toString(), ".");
    s3.put(bucket, "models/alpha/5.tar.gz", Files.readAllBytes(archive));

    Path dir = source("s3://" + bucket + "/models").materialize("alpha", 5);

    assertThat(read(dir.resolve("saved_model.pb"))).isEqualTo("graph");
    assertThat(read(dir.resolve("variables/variables.index"))).isEqualTo("index");
    assertThat(read(dir.resolve("assets/vocab.txt"))).isEqualTo("the\nmovie\n");
    assertThat(dir.resolve("5.tar.gz")).doesNotExist();
  }

  @Test
  void extractsAPaxTarGzWithOneTopFolderAndLongNames() throws Exception {
    String longName = "assets/" + "x".repeat(150) + ".txt";
    Path archive = work.resolve("6.tar.gz");
    python(
        "import tarfile, io, sys\n"
            + "with tarfile.open(sys.argv[1], 'w:gz', format=tarfile.PAX_FORMAT) as t:\n"
            + "  for name, data in [('6/saved_model.pb', b'graph'), ('6/"
            + longName
            + "', b'long')]:\n"
            + "    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))\n",
        archive.toString());
    s3.put(bucket, "models/alpha/6.tar.gz", Files.readAllBytes(archive));

    Path dir = source("s3://" + bucket + "/models").materialize("alpha", 6);

    assertThat(read(dir.resolve("saved_model.pb"))).isEqualTo("graph");
    assertThat(read(dir.resolve(longName))).isEqualTo("long");
  }

  @Test
  void refusesTarballsWithLinksOrPathsOutsideTheVersion() throws Exception {
    Path v = work.resolve("v");
    write(v.resolve("saved_model.pb"), "graph");
    Files.createSymbolicLink(v.resolve("passwd"), Path.of("/etc/passwd"));
    Path withLink = work.resolve("7.tar.gz");
    run(work, "tar", "-czf", withLink.toString(), "-C", v.toString(), ".");
    s3.put(bucket, "models/alpha/7.tar.gz", Files.readAllBytes(withLink));

    Path escaping = work.resolve("8.tar.gz");
    python(
        "import tarfile, io, sys\n"
            + "with tarfile.open(sys.argv[1], 'w:gz') as t:\n"
            + "  for name in ['saved_model.pb', '../../escaped.txt']:\n"
            + "    i = tarfile.TarInfo(name); i.size = 1; t.addfile(i, io.BytesIO(b'x'))\n",
        escaping.toString());
    s3.put(bucket, "models/alpha/8.tar.gz", Files.readAllBytes(escaping));
    S3ModelSource source = source("s3://" + bucket + "/models");

    assertThatThrownBy(() -> source.materialize("alpha", 7))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("only files and folders");
    assertThatThrownBy(() -> source.materialize("alpha", 8))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unsafe path");
    // (not a walk of the shared temp folder: other processes' files come and go there)
    try (Stream<Path> all = Files.walk(cacheDir)) {
      assertThat(all.filter(p -> p.getFileName().toString().equals("escaped.txt"))).isEmpty();
    }
    assertThat(cacheDir.resolveSibling("escaped.txt")).doesNotExist();
    assertThat(cacheDir.resolve("alpha")).doesNotExist();
  }

  @Test
  void refusesAGzipThatIsNotATar() throws IOException {
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (var out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write("saved_model.pb but not a tar".repeat(40).getBytes(StandardCharsets.UTF_8));
    }
    s3.put(bucket, "models/alpha/9.tar.gz", gz.toByteArray());

    assertThatThrownBy(() -> source("s3://" + bucket + "/models").materialize("alpha", 9))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a tar archive");
  }

  @Test
  void evictRemovesTheCachedCopy() throws IOException {
    putVersion("models/alpha/1", Map.of("saved_model.pb", "graph"));
    S3ModelSource source = source("s3://" + bucket + "/models");
    Path dir = source.materialize("alpha", 1);

    source.evict("alpha", 1);

    assertThat(dir).doesNotExist();
    assertThat(stagingEntries()).isEmpty();
  }

  @Test
  void failsWithinSecondsWhenS3IsUnreachable() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    S3Client dead = s3.client(URI.create("http://127.0.0.1:" + closedPort));
    S3ModelSource source =
        new S3ModelSource(dead, S3Location.parse("s3://" + bucket + "/models"), cacheDir);

    long start = System.nanoTime();
    assertThatThrownBy(source::models)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot list models in s3://" + bucket + "/models");
    assertThatThrownBy(() -> source.versions("alpha")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> source.settings("alpha")).isInstanceOf(IOException.class);
    assertThat((System.nanoTime() - start) / 1e9).isLessThan(10);
  }

  // --- helpers

  private S3ModelSource source(String uri) throws IOException {
    return new S3ModelSource(s3.client(), S3Location.parse(uri), cacheDir);
  }

  private void put(String key, String content) {
    s3.put(bucket, key, content.getBytes(StandardCharsets.UTF_8));
  }

  /** Uploads a version's files with saved_model.pb last, as the uploader does. */
  private void putVersion(String prefix, Map<String, String> files) {
    files.entrySet().stream()
        .sorted(
            Map.Entry.comparingByKey(
                (a, b) ->
                    a.equals("saved_model.pb")
                        ? 1
                        : b.equals("saved_model.pb") ? -1 : a.compareTo(b)))
        .forEach(e -> put(prefix + "/" + e.getKey(), e.getValue()));
  }

  private String multipartUpload(String key, byte[] data, int partSize) {
    S3Client c = s3.client();
    String id = c.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
    List<CompletedPart> parts = new java.util.ArrayList<>();
    for (int off = 0, n = 1; off < data.length; off += partSize, n++) {
      int len = Math.min(partSize, data.length - off);
      int partNumber = n;
      String etag =
          c.uploadPart(
                  b -> b.bucket(bucket).key(key).uploadId(id).partNumber(partNumber),
                  RequestBody.fromBytes(java.util.Arrays.copyOfRange(data, off, off + len)))
              .eTag();
      parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
    }
    return c.completeMultipartUpload(
            b -> b.bucket(bucket).key(key).uploadId(id).multipartUpload(m -> m.parts(parts)))
        .eTag();
  }

  private List<Path> stagingEntries() throws IOException {
    try (Stream<Path> s = Files.list(cacheDir.resolve(".staging"))) {
      return s.toList();
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path p, String content) throws IOException {
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  private static void run(Path dir, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
  }

  private void python(String script, String... args) throws Exception {
    Path file = work.resolve("make_tar.py");
    Files.writeString(file, script);
    String[] command = new String[args.length + 2];
    command[0] = "python3";
    command[1] = file.toString();
    System.arraycopy(args, 0, command, 2, args.length);
    run(work, command);
  }

  enum Rewrite {
    FLIP_FIRST_BYTE,
    DROP_LAST_BYTE
  }

  /**
   * Rewrites the body of GetObject responses for keys ending in {@code suffix}, on the client side.
   */
  private static ExecutionInterceptor bodyRewriter(String suffix, Rewrite how) {
    return new ExecutionInterceptor() {
      @Override
      public Optional<InputStream> modifyHttpResponseContent(
          Context.ModifyHttpResponse ctx, ExecutionAttributes attrs) {
        if (!(ctx.request() instanceof GetObjectRequest g)
            || !g.key().endsWith(suffix)
            || ctx.responseBody().isEmpty()) {
          return ctx.responseBody();
        }
        try {
          byte[] body = ctx.responseBody().get().readAllBytes();
          byte[] changed =
              switch (how) {
                case FLIP_FIRST_BYTE -> {
                  body[0] ^= 0x01;
                  yield body;
                }
                case DROP_LAST_BYTE -> java.util.Arrays.copyOf(body, body.length - 1);
              };
          return Optional.of(new FilterInputStream(new java.io.ByteArrayInputStream(changed)) {});
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }
}
