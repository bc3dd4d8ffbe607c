package dev.mlserve.drift;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * moto's server ({@code moto_server}, Python, installed by CI) on a free loopback port: the SNS and
 * SQS APIs for tests. Missing: fails on CI, skips with a printed reason elsewhere.
 */
final class MotoServer implements AutoCloseable {
  private final Process process;
  private final URI endpoint;

  private MotoServer(Process process, URI endpoint) {
    this.process = process;
    this.endpoint = endpoint;
  }

  static MotoServer start(String testName) throws IOException, InterruptedException {
    String binary = find();
    if (binary == null) {
      String reason =
          "SKIPPED "
              + testName
              + ": moto_server is not on PATH (pip install 'moto[server]'; CI installs it)";
      System.out.println(reason);
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException(reason.replace("SKIPPED", "FAILED on CI"));
      }
      Assumptions.abort(reason);
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile(Path.of("target").toAbsolutePath(), "moto", ".log");
    Process p =
        new ProcessBuilder(binary, "-H", "127.0.0.1", "-p", Integer.toString(port))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("moto_server exited: " + Files.readString(log));
      }
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return new MotoServer(p, URI.create("http://127.0.0.1:" + port));
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    p.destroyForcibly();
    throw new IllegalStateException(
        "moto_server did not listen within 30 s: " + Files.readString(log));
  }

  private static String find() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(dir, "moto_server");
      if (f.canExecute()) {
        return f.getPath();
      }
    }
    return null;
  }

  URI endpoint() {
    return endpoint;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
