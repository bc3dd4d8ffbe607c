package dev.mlserve.batch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.TestSupport;
import dev.mlserve.s3.S3ProxyFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;

/**
 * The batch job against a real S3 API (S3Proxy in this JVM) and the real model: one bucket, the
 * demo model from the repository's folder, and helpers to run the command and read its outputs.
 */
final class BatchFixture implements AutoCloseable {
  static final String BUCKET = "batch-data";
  static final Path GOLDEN =
      Path.of("..", "training", "golden", "imdb-sentiment-1.json").toAbsolutePath().normalize();

  final S3ProxyFixture s3;
  final S3Client client;
  final Path cacheDir;
  SnsClient sns;

  /** The last run's stderr and stdout. */
  String err = "";

  String out = "";

  /** What the last run logged as its failure (BatchCommand's log lines). */
  String log = "";

  BatchFixture(Path tmp) {
    this(tmp, S3ProxyFixture.start());
  }

  /** With S3Proxy storing its objects on disk under {@code tmp} (gigabyte-sized jobs). */
  static BatchFixture onDisk(Path tmp) throws IOException {
    return new BatchFixture(tmp, S3ProxyFixture.start(Files.createDirectories(tmp.resolve("s3"))));
  }

  /** The same, served over HTTPS only, as S3 is: the SDK then uploads as it does in AWS. */
  static BatchFixture onDiskHttps(Path tmp) throws IOException {
    return new BatchFixture(
        tmp, S3ProxyFixture.startHttps(Files.createDirectories(tmp.resolve("s3"))));
  }

  private BatchFixture(Path tmp, S3ProxyFixture s3) {
    this.s3 = s3;
    this.client = s3.client();
    this.cacheDir = tmp.resolve("model-cache");
    s3.createBucket(BUCKET);
  }

  static JsonNode golden() throws IOException {
    return TestSupport.JSON.readTree(GOLDEN.toFile());
  }

  void put(String key, String content) {
    s3.put(BUCKET, key, content.getBytes(StandardCharsets.UTF_8));
  }

  void put(String key, byte[] content) {
    s3.put(BUCKET, key, content);
  }

  /** The environment of a job reading batch/input/{job}/ and writing batch/output/{job}/. */
  Map<String, String> env(String job, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("MODEL_BASE_PATH", TestSupport.demoModels().toString());
    env.put("MODEL_CACHE_DIR", cacheDir.toString());
    env.put("BATCH_INPUT_URI", "s3://" + BUCKET + "/batch/input/" + job + "/");
    env.put("BATCH_OUTPUT_URI", "s3://" + BUCKET + "/batch/output/" + job + "/");
    env.put("BATCH_PROGRESS_SECONDS", "1");
    env.putAll(extra);
    return env;
  }

  /** Runs {@code batch <args>} in this JVM; returns the exit code. */
  int run(Map<String, String> env, String... args) {
    BatchCommand.Clients clients =
        new BatchCommand.Clients() {
          @Override
          public S3Client s3() {
            return client;
          }

          @Override
          public SnsClient sns() {
            return sns;
          }
        };
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    PrintStream oldErr = System.err;
    PrintStream oldOut = System.out;
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(BatchCommand.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
    try {
      return new CommandLine(new BatchCommand(env, clients)).execute(args);
    } finally {
      logger.detachAppender(appender);
      log =
          String.join(
              "\n",
              appender.list.stream()
                  .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                  .toList());
      System.setErr(oldErr);
      System.setOut(oldOut);
      err = errBytes.toString(StandardCharsets.UTF_8);
      out = outBytes.toString(StandardCharsets.UTF_8);
      oldOut.print(out);
      oldErr.print(err);
    }
  }

  String text(String key) {
    return new String(s3.get(BUCKET, key), StandardCharsets.UTF_8);
  }

  boolean exists(String key) {
    return !s3.list(BUCKET, key).stream().filter(o -> o.key().equals(key)).toList().isEmpty();
  }

  /** The lines of an output object, parsed. */
  List<JsonNode> jsonLines(String key) throws IOException {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : text(key).split("\n")) {
      if (!line.isEmpty()) {
        rows.add(TestSupport.JSON.readTree(line));
      }
    }
    return rows;
  }

  JsonNode manifest(String job) throws IOException {
    return TestSupport.JSON.readTree(text("batch/output/" + job + "/_SUCCESS"));
  }

  @Override
  public void close() {
    s3.close();
  }
}
