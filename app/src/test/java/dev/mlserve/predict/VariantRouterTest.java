package dev.mlserve.predict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.config.ModelSettings.Variant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class VariantRouterTest {
  private static final List<Variant> NINETY_TEN =
      List.of(
          new Variant("a", Optional.empty(), OptionalLong.of(1), 90),
          new Variant("b", Optional.empty(), OptionalLong.of(2), 10));

  @Test
  void randomAssignmentFollowsTheWeights() {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      counts.merge(VariantRouter.choose(NINETY_TEN, Optional.empty()).name(), 1, Integer::sum);
    }
    assertThat(counts.get("b") / 20_000.0).isBetween(0.08, 0.12);
  }

  @Test
  void stickyKeysAlwaysLandOnTheSameVariant() {
    for (int i = 0; i < 200; i++) {
      String key = "user-" + i;
      String first = VariantRouter.choose(NINETY_TEN, Optional.of(key)).name();
      for (int j = 0; j < 5; j++) {
        assertThat(VariantRouter.choose(NINETY_TEN, Optional.of(key)).name()).isEqualTo(first);
      }
    }
  }

  @Test
  void stickyKeysStillSplitByWeight() {
    int b = 0;
    for (int i = 0; i < 10_000; i++) {
      if (VariantRouter.choose(NINETY_TEN, Optional.of("user-" + i)).name().equals("b")) {
        b++;
      }
    }
    assertThat(b / 10_000.0).isBetween(0.08, 0.12);
  }

  @Test
  void zeroWeightVariantsGetNothing() {
    List<Variant> v =
        List.of(
            new Variant("off", Optional.empty(), OptionalLong.empty(), 0),
            new Variant("on", Optional.empty(), OptionalLong.empty(), 1));
    for (int i = 0; i < 1000; i++) {
      assertThat(VariantRouter.choose(v, Optional.empty()).name()).isEqualTo("on");
    }
  }
}
