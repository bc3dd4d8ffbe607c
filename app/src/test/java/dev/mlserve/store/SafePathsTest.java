package dev.mlserve.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gate between bucket keys or tar entries and the file system. S3Proxy refuses keys with {@code
 * ..} segments, so the hostile names are checked here directly (real S3 accepts them).
 */
class SafePathsTest {
  private final Path root = Path.of("/cache/m/1");

  @Test
  void keepsOrdinaryNamesInsideTheFolder() throws IOException {
    assertThat(SafePaths.resolveInside(root, "variables/variables.index"))
        .isEqualTo(Path.of("/cache/m/1/variables/variables.index"));
    assertThat(SafePaths.resolveInside(root, "./saved_model.pb"))
        .isEqualTo(Path.of("/cache/m/1/saved_model.pb"));
    assertThat(SafePaths.resolveInside(root, "assets/")).isEqualTo(Path.of("/cache/m/1/assets"));
    assertThat(SafePaths.resolveInside(root, "a..b/c")).isEqualTo(Path.of("/cache/m/1/a..b/c"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../escape",
        "variables/../../escape",
        "..",
        "/etc/passwd",
        "a//b",
        "a/./b",
        ".",
        "./",
        "",
        "a\\..\\b",
        "bad\u0000name",
        "new\nline"
      })
  void refusesNamesThatLeaveTheFolderOrHideSomething(String name) {
    assertThatThrownBy(() -> SafePaths.resolveInside(root, name))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("refusing unsafe path");
  }
}
