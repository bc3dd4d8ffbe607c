package dev.mlserve;

import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * A real {@code moto_server} (moto 5.2.1, Python) on a free loopback port, for the AWS APIs no
 * in-process server here implements: Secrets Manager, SNS delivering to SQS, and S3 multipart
 * uploads with real multipart ETags and {@code HEAD ?partNumber}. Missing moto fails the test when
 * {@code CI=true} (CI installs it) and skips it with a printed reason elsewhere.
 */
public final class MotoServer implements AutoCloseable {
  public static final String ACCESS_KEY = "testing";
  public static final String SECRET_KEY = "testing";
  public static final Region REGION = Region.EU_WEST_1;

  private final Process process;
  private final URI endpoint;
  private final Path logFile;

  private MotoServer(Process process, URI endpoint, Path logFile) {
    this.process = process;
    this.endpoint = endpoint;
    this.logFile = logFile;
  }

  /**
   * Starts moto with extra environment (e.g. {@code S3_UPLOAD_PART_MIN_SIZE}); skips or fails the
   * calling test when moto is not installed.
   */
  public static MotoServer start(Map<String, String> environment) throws IOException {
    List<String> command = command();
    if (command.isEmpty()) {
      String why = "moto_server (pip install 'moto[server]==5.2.1') is not installed";
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError(why + ", and CI=true requires it (.ci/run installs it)");
      }
      System.out.println("SKIPPED: " + why + "; CI installs it and runs this test.");
      Assumptions.abort(why);
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> args = new ArrayList<>(command);
    args.addAll(List.of("-H", "127.0.0.1", "-p", Integer.toString(port)));
    Path log = Files.createTempFile("moto-server", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(environment);
    Process p = pb.start();
    MotoServer moto = new MotoServer(p, URI.create("http://127.0.0.1:" + port), log);
    moto.awaitUp(Duration.ofSeconds(30));
    return moto;
  }

  private static List<String> command() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "moto_server"))) {
        return List.of(Path.of(dir, "moto_server").toString());
      }
    }
    return List.of();
  }

  private void awaitUp(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("moto_server exited: " + Files.readString(logFile));
      }
      try {
        HttpURLConnection c =
            (HttpURLConnection) endpoint.resolve("/moto-api/").toURL().openConnection();
        c.setConnectTimeout(500);
        c.setReadTimeout(2000);
        if (c.getResponseCode() < 500) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    close();
    throw new IOException("moto_server did not answer within " + timeout);
  }

  public URI endpoint() {
    return endpoint;
  }

  public StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      Files.deleteIfExists(logFile);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // a temp file left behind is harmless
    }
  }
}
