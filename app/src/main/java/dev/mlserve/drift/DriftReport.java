package dev.mlserve.drift;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One segment's report: the JSON document and its short human-readable summary. */
record DriftReport(
    String model,
    long version,
    String variant,
    Instant start,
    Instant end,
    String baselineSource,
    int baselineRows,
    List<DriftChecks.Check> checks) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  long violations() {
    return checks.stream().filter(c -> c.status().equals(DriftChecks.VIOLATION)).count();
  }

  boolean enoughData() {
    return checks.get(0).status().equals(DriftChecks.PASS);
  }

  /** "violation", "pass" or "not_enough_data": the report's overall status. */
  String status() {
    return violations() > 0
        ? DriftChecks.VIOLATION
        : enoughData() ? DriftChecks.PASS : DriftChecks.NOT_ENOUGH_DATA;
  }

  byte[] json() throws IOException {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("model", model);
    doc.put("version", version);
    doc.put("variant", variant.isEmpty() ? null : variant);
    doc.put("window", Map.of("start", start.toString(), "end", end.toString()));
    doc.put("rows", (long) checks.get(0).value());
    doc.put("status", status());
    doc.put("violations", violations());
    doc.put("baseline", Map.of("source", baselineSource, "rows", baselineRows));
    doc.put(
        "note",
        "Compares inputs and scores with the training baseline; the capture holds no labels, so"
            + " nothing here measures accuracy.");
    doc.put("checks", checks);
    return JSON.writeValueAsBytes(doc);
  }

  String summary() {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "Drift report %s v%d%s, %s to %s: %s (%d rows, %d violation%s)%n",
            model,
            version,
            variant.isEmpty() ? "" : " variant " + variant,
            start,
            end,
            status().toUpperCase(Locale.ROOT),
            (long) checks.get(0).value(),
            violations(),
            violations() == 1 ? "" : "s"));
    for (DriftChecks.Check c : checks) {
      s.append(
          String.format(
              Locale.ROOT,
              "  %-16s %-30s value %-10.4g threshold %-8.4g %s%n",
              c.status(),
              c.check(),
              c.value(),
              c.threshold(),
              c.baseline() == null
                  ? ""
                  : "(baseline " + String.format(Locale.ROOT, "%.4g", c.baseline()) + ")"));
    }
    s.append("No accuracy is claimed: captured predictions carry no labels.\n");
    return s.toString();
  }
}
