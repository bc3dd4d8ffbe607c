package dev.mlserve.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * TensorFlow never runs on a virtual thread ({@link PlatformCalls}). The suite compiles and runs on
 * Java 17, which has no virtual threads, so {@link VirtualThreadProbe} runs in a JVM of Java 21 or
 * newer: this JVM when it is one, else the newest JDK under {@code /usr/lib/jvm} (CI installs
 * Temurin 25, the image's JVM). Without one the test fails on CI and is skipped with a printed
 * reason elsewhere.
 */
class VirtualThreadSafetyTest {
  private static final Golden CASE = TestSupport.golden().get("positive_short");

  @Test
  void predictionsFromVirtualThreadsRunTensorFlowOnPlatformThreadsAndScoreRight() throws Exception {
    String out =
        probe(
            "predictionsFromVirtualThreadsRunTensorFlowOnPlatformThreadsAndScoreRight", "service");
    assertThat(out)
        .contains("virtual threads inside TensorFlow Java: 0 of 8")
        .contains("carriers free: a virtual thread started later ran")
        .contains("calls done while the monitor was held: 0 of 8")
        .contains("calls with the golden score: 8 of 8");
  }

  @Test
  void theProbeSeesVirtualThreadsThatCallTensorFlowJavaThemselves() throws Exception {
    // the same calls without ModelVersion.run: each virtual thread enters TensorFlow Java and waits
    // there for the monitor, which is what the first test shows does not happen
    String out = probe("theProbeSeesVirtualThreadsThatCallTensorFlowJavaThemselves", "binding");
    assertThat(out)
        .contains("virtual threads inside TensorFlow Java: 8 of 8")
        .contains("calls done while the monitor was held: 0 of 8");
  }

  private static String probe(String testName, String mode) throws Exception {
    Path java = javaWithVirtualThreads(testName);
    Path log = Files.createTempFile(Path.of("target"), "vt-probe", ".log");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Djdk.virtualThreadScheduler.parallelism=2",
                "-cp",
                System.getProperty("java.class.path"),
                VirtualThreadProbe.class.getName(),
                TestSupport.demoVersion().toString(),
                mode,
                CASE.text(),
                Double.toString(CASE.score()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean ended = p.waitFor(120, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly().waitFor();
    }
    String out = Files.readString(log);
    assertThat(ended).as("the probe ended within 120 s; its output:\n" + out).isTrue();
    assertThat(p.exitValue()).as("the probe's exit code; its output:\n" + out).isEqualTo(0);
    return out;
  }

  private static Path javaWithVirtualThreads(String testName) throws IOException {
    if (Runtime.version().feature() >= 21) {
      return Path.of(System.getProperty("java.home"), "bin", "java");
    }
    Optional<Path> jdk = Optional.empty();
    Path jvms = Path.of("/usr/lib/jvm");
    if (Files.isDirectory(jvms)) {
      try (Stream<Path> dirs = Files.list(jvms)) {
        jdk =
            dirs.filter(d -> Files.isExecutable(d.resolve("bin/java")))
                .filter(d -> feature(d) >= 21)
                .max(Comparator.comparingInt(VirtualThreadSafetyTest::feature));
      }
    }
    if (jdk.isPresent()) {
      return jdk.get().resolve("bin/java");
    }
    String reason =
        "SKIPPED "
            + testName
            + ": a JDK 21 or newer is needed under /usr/lib/jvm (CI installs Temurin 25)";
    System.out.println(reason);
    if ("true".equals(System.getenv("CI"))) {
      throw new IllegalStateException(reason.replace("SKIPPED", "FAILED on CI"));
    }
    Assumptions.abort(reason);
    return null;
  }

  /**
   * The feature version in a JDK's {@code release} file ({@code JAVA_VERSION="25.0.3"}), else 0.
   */
  private static int feature(Path jdk) {
    try {
      List<String> lines = Files.readAllLines(jdk.resolve("release"));
      for (String line : lines) {
        if (line.startsWith("JAVA_VERSION=")) {
          String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
          int dot = v.indexOf('.');
          return Integer.parseInt(dot < 0 ? v : v.substring(0, dot));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }
}
