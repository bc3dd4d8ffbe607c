package dev.mlserve.batch;

import java.util.Locale;
import java.util.Optional;

/** The input formats, one row per line. */
public enum InputFormat {
  /** JSON lines: one object per line, the text in a field, other fields carried through. */
  JSONL("jsonl"),
  /** CSV with a header line; one record per line (quoted fields may not contain line breaks). */
  CSV("csv"),
  /** Plain text: each line is one text. */
  TEXT("text");

  private final String id;

  InputFormat(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }

  public static Optional<InputFormat> named(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "jsonl", "ndjson", "json" -> Optional.of(JSONL);
      case "csv" -> Optional.of(CSV);
      case "text", "txt" -> Optional.of(TEXT);
      default -> Optional.empty();
    };
  }

  /** By file extension ({@code .jsonl .ndjson .json .csv .txt}); empty when it tells nothing. */
  public static Optional<InputFormat> ofFileName(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".gz")) {
      return Optional.empty();
    }
    int dot = lower.lastIndexOf('.');
    return dot < 0 ? Optional.empty() : named(lower.substring(dot + 1));
  }
}
