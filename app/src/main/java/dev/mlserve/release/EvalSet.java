package dev.mlserve.release;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The held-out labelled test split training publishes beside a version, {@code
 * assets.extra/eval.jsonl.gz}: one {@code {"text": ..., "label": 0|1}} per line.
 */
record EvalSet(List<String> texts, int[] labels) {
  static final String FILE = "assets.extra/eval.jsonl.gz";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads the set from a downloaded version folder.
   *
   * @throws IOException naming the file and line of the first problem
   */
  static EvalSet read(Path versionDir) throws IOException {
    Path file = versionDir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      throw new IOException(
          "no " + FILE + " in this version: training publishes the held-out test split there");
    }
    List<String> texts = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
      String line;
      int n = 0;
      while ((line = in.readLine()) != null) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode row = JSON.readTree(line);
        int label = row.path("label").asInt(-1);
        if (!row.path("text").isTextual() || !row.path("label").isInt() || label < 0 || label > 1) {
          throw new IOException(
              FILE + " line " + n + ": expected {\"text\": string, \"label\": 0|1}");
        }
        texts.add(row.get("text").asText());
        labels.add(label);
      }
    }
    if (texts.isEmpty()) {
      throw new IOException(FILE + " has no rows");
    }
    return new EvalSet(List.copyOf(texts), labels.stream().mapToInt(Integer::intValue).toArray());
  }
}
