package dev.mlserve.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which of the available versions to serve, as TensorFlow Serving's model_version_policy: {@code
 * latest} (= latest:1), {@code latest:N}, {@code all}, or {@code specific:1,3}.
 */
public record VersionPolicy(Kind kind, int latestCount, Set<Long> specific) {

  /** The policy kinds. */
  public enum Kind {
    LATEST,
    ALL,
    SPECIFIC
  }

  @com.fasterxml.jackson.annotation.JsonCreator
  public static VersionPolicy parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("latest")) {
      return new VersionPolicy(Kind.LATEST, 1, Set.of());
    }
    if (t.equals("all")) {
      return new VersionPolicy(Kind.ALL, 0, Set.of());
    }
    if (t.startsWith("latest:")) {
      int n;
      try {
        n = Integer.parseInt(t.substring(7));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("latest:N needs a whole number N, got '" + text + "'");
      }
      if (n < 1) {
        throw new IllegalArgumentException("latest:N needs N >= 1, got '" + text + "'");
      }
      return new VersionPolicy(Kind.LATEST, n, Set.of());
    }
    if (t.startsWith("specific:")) {
      List<Long> versions = new ArrayList<>();
      for (String part : t.substring(9).split(",")) {
        try {
          long v = Long.parseLong(part.trim());
          if (v < 1) {
            throw new NumberFormatException();
          }
          versions.add(v);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "specific:V1,V2 needs positive whole numbers, got '" + text + "'");
        }
      }
      return new VersionPolicy(Kind.SPECIFIC, 0, Set.copyOf(versions));
    }
    throw new IllegalArgumentException(
        "expected latest, latest:N, all or specific:V1,V2 but got '" + text + "'");
  }

  /** The versions to serve out of those available, highest first. */
  public NavigableSet<Long> select(Collection<Long> available) {
    TreeSet<Long> sorted = new TreeSet<>(available);
    TreeSet<Long> chosen = new TreeSet<>();
    switch (kind) {
      case ALL -> chosen.addAll(sorted);
      case SPECIFIC -> sorted.stream().filter(specific::contains).forEach(chosen::add);
      case LATEST -> sorted.descendingSet().stream().limit(latestCount).forEach(chosen::add);
    }
    return chosen.descendingSet();
  }

  @com.fasterxml.jackson.annotation.JsonValue
  @Override
  public String toString() {
    return switch (kind) {
      case ALL -> "all";
      case LATEST -> "latest:" + latestCount;
      case SPECIFIC ->
          "specific:"
              + String.join(",", new TreeSet<>(specific).stream().map(String::valueOf).toList());
    };
  }
}
