package dev.mlserve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class VersionPolicyTest {
  private static final List<Long> AVAILABLE = List.of(1L, 2L, 3L, 7L);

  @Test
  void latestServesTheHighestVersion() {
    assertThat(VersionPolicy.parse("latest").select(AVAILABLE)).containsExactly(7L);
    assertThat(VersionPolicy.parse("latest:2").select(AVAILABLE)).containsExactly(7L, 3L);
  }

  @Test
  void allAndSpecific() {
    assertThat(VersionPolicy.parse("all").select(AVAILABLE)).containsExactly(7L, 3L, 2L, 1L);
    assertThat(VersionPolicy.parse("specific:1,3,9").select(AVAILABLE)).containsExactly(3L, 1L);
  }

  @Test
  void rejectsUnknownForms() {
    assertThatThrownBy(() -> VersionPolicy.parse("newest")).hasMessageContaining("latest:N");
    assertThatThrownBy(() -> VersionPolicy.parse("latest:0")).hasMessageContaining("N >= 1");
    assertThatThrownBy(() -> VersionPolicy.parse("specific:a")).hasMessageContaining("positive");
  }
}
