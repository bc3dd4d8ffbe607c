package dev.mlserve.drift;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.store.S3Location;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Reads captured predictions of one model in a time window from the capture bucket ({@code
 * model=M/date=YYYY-MM-DD/hour=HH/*.jsonl}, see capture.CaptureFormat): only the hour partitions
 * the window touches are listed. A line that is not a capture record is counted and skipped.
 */
final class CaptureReader {
  private static final Logger log = LoggerFactory.getLogger(CaptureReader.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter PARTITION =
      DateTimeFormatter.ofPattern("'date='yyyy-MM-dd/'hour='HH/").withZone(ZoneOffset.UTC);

  /** The rows of one model version and variant ("" without variants). */
  record Segment(long version, String variant, List<String> texts, List<Double> scores) {}

  /** What was read: segments by "version/variant", and how many lines were skipped. */
  record Capture(Map<String, Segment> segments, int files, int skippedLines) {}

  private final S3Client s3;
  private final S3Location capture;
  private final Optional<String> inputName;
  private final Optional<String> outputName;

  CaptureReader(
      S3Client s3, S3Location capture, Optional<String> inputName, Optional<String> outputName) {
    this.s3 = s3;
    this.capture = capture;
    this.inputName = inputName;
    this.outputName = outputName;
  }

  Capture read(String model, Instant start, Instant end) throws IOException {
    Map<String, Segment> segments = new TreeMap<>();
    int files = 0;
    int skipped = 0;
    for (Instant hour = start.truncatedTo(ChronoUnit.HOURS);
        hour.isBefore(end);
        hour = hour.plus(1, ChronoUnit.HOURS)) {
      String prefix = capture.key("model=" + model + "/" + PARTITION.format(hour));
      List<S3Object> objects =
          s3
              .listObjectsV2Paginator(b -> b.bucket(capture.bucket()).prefix(prefix))
              .contents()
              .stream()
              .filter(o -> o.key().endsWith(".jsonl"))
              .toList();
      for (S3Object o : objects) {
        files++;
        skipped += readFile(o.key(), model, start, end, segments);
      }
    }
    return new Capture(segments, files, skipped);
  }

  private int readFile(
      String key, String model, Instant start, Instant end, Map<String, Segment> segments)
      throws IOException {
    int skipped = 0;
    try (ResponseInputStream<GetObjectResponse> in =
            s3.getObject(b -> b.bucket(capture.bucket()).key(key));
        BufferedReader lines =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        if (!add(line, model, start, end, segments)) {
          skipped++;
        }
      }
    }
    if (skipped > 0) {
      log.warn(
          "s3://{}/{}: skipped {} lines that are not capture records",
          capture.bucket(),
          key,
          skipped);
    }
    return skipped;
  }

  /** Adds one record's rows; false when the line is not a usable capture record. */
  private boolean add(
      String line, String model, Instant start, Instant end, Map<String, Segment> segments) {
    JsonNode r;
    Instant time;
    try {
      r = JSON.readTree(line);
      time = Instant.parse(r.path("time").asText());
    } catch (IOException | DateTimeParseException e) {
      return false;
    }
    if (!model.equals(r.path("model").asText()) || !r.path("version").canConvertToLong()) {
      return false;
    }
    if (time.isBefore(start) || !time.isBefore(end)) {
      return true; // a valid record outside the window
    }
    JsonNode texts = tensor(r.path("inputs"), inputName);
    JsonNode scores = tensor(r.path("outputs"), outputName);
    if (texts == null || scores == null || texts.size() != scores.size()) {
      return false;
    }
    long version = r.path("version").asLong();
    String variant = r.path("variant").isTextual() ? r.path("variant").asText() : "";
    for (int i = 0; i < texts.size(); i++) {
      if (!texts.get(i).isTextual() || !scores.get(i).isNumber()) {
        return false;
      }
    }
    Segment s =
        segments.computeIfAbsent(
            version + "/" + variant,
            k -> new Segment(version, variant, new ArrayList<>(), new ArrayList<>()));
    for (int i = 0; i < texts.size(); i++) {
      s.texts().add(texts.get(i).asText());
      s.scores().add(scores.get(i).asDouble());
    }
    return true;
  }

  /** The named tensor's flat data, or the only tensor's when no name is given. */
  private static JsonNode tensor(JsonNode tensors, Optional<String> name) {
    JsonNode t;
    if (name.isPresent()) {
      t = tensors.get(name.get());
    } else {
      t = tensors.size() == 1 ? tensors.elements().next() : null;
    }
    JsonNode data = t == null ? null : t.get("data");
    return data != null && data.isArray() ? data : null;
  }
}
