package dev.mlserve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserve.errors.ServingException;
import org.junit.jupiter.api.Test;

class IdentifiersTest {
  @Test
  void acceptsOrdinaryNames() {
    assertThat(Identifiers.isName("imdb-sentiment")).isTrue();
    assertThat(Identifiers.isName("model_v2.final")).isTrue();
  }

  @Test
  void refusesAnythingThatCouldEscapeAFolder() {
    for (String bad :
        new String[] {"..", "../etc", "a/b", "a\\b", ".hidden", "", "a..b", "x".repeat(65), "名前"}) {
      assertThat(Identifiers.isName(bad)).as(bad).isFalse();
    }
    assertThatThrownBy(() -> Identifiers.requireName("model name", "../x"))
        .isInstanceOf(ServingException.class)
        .hasMessageContaining("invalid model name");
  }

  @Test
  void versionsArePositiveWholeNumbers() {
    assertThat(Identifiers.parseVersion("12")).hasValue(12);
    assertThat(Identifiers.parseVersion("0")).isEmpty();
    assertThat(Identifiers.parseVersion("-1")).isEmpty();
    assertThat(Identifiers.parseVersion("1e3")).isEmpty();
    assertThat(Identifiers.parseVersion("99999999999999999999")).isEmpty();
  }
}
