package dev.mlserve.capture;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * How captured records look in the bucket: one JSON object per line, in files partitioned Hive
 * style by model, UTC date and hour of the prediction ({@code model=m/date=2026-01-31/hour=07/}),
 * so Athena, Glue and Spark can prune by partition without a crawler guessing.
 */
final class CaptureFormat {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd");
  private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("HH");

  private CaptureFormat() {}

  /** The hour a record belongs to: its partition. */
  static Instant hourOf(CaptureRecord r) {
    return r.time().truncatedTo(ChronoUnit.HOURS);
  }

  /** {@code <prefix>/model=<m>/date=YYYY-MM-DD/hour=HH/<uuid>.jsonl} for records of that hour. */
  static String key(String prefix, String model, Instant hour, UUID id) {
    ZonedDateTime t = hour.atZone(ZoneOffset.UTC);
    String path =
        "model="
            + model
            + "/date="
            + DATE.format(t)
            + "/hour="
            + HOUR.format(t)
            + "/"
            + id
            + ".jsonl";
    return prefix.isEmpty() ? path : prefix + "/" + path;
  }

  /** The records as JSON lines (UTF-8, each line ending in a newline). */
  static byte[] jsonLines(List<CaptureRecord> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(records.size() * 256);
    try {
      for (CaptureRecord r : records) {
        out.write(JSON.writeValueAsBytes(line(r)));
        out.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException("a captured value is not JSON-serialisable", e);
    }
    return out.toByteArray();
  }

  /** One record's fields in a fixed order (the schema docs/S3.md shows). */
  static Map<String, Object> line(CaptureRecord r) {
    int[] low = r.lowConfidenceRows() == null ? new int[0] : r.lowConfidenceRows();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("request_id", r.requestId());
    m.put("time", DateTimeFormatter.ISO_INSTANT.format(r.time().truncatedTo(ChronoUnit.MICROS)));
    m.put("model", r.model());
    m.put("version", r.version());
    m.put("variant", r.variant() == null || r.variant().isEmpty() ? null : r.variant());
    m.put("signature", r.signature());
    m.put("inputs", r.inputs());
    m.put("outputs", r.outputs());
    m.put("latency_ms", Math.round(r.latencyMs() * 1000) / 1000.0);
    m.put("low_confidence", low.length > 0);
    m.put("low_confidence_rows", Arrays.stream(low).boxed().toList());
    return m;
  }
}
