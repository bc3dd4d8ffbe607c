package dev.mlserve.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserve.store.S3Location;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The job's manifest ({@code _SUCCESS}): what was scored with which model, the counts (rows, failed
 * rows by reason, low-confidence rows, by label, by band), the first failures, where the outputs
 * are, and timings. Its {@code outcome} is {@code rows_failed} when any row failed, else {@code
 * low_confidence} when any row was flagged, else {@code succeeded}.
 */
final class Manifest {
  static final int SAMPLE_IDS = 10;

  private Manifest() {}

  static ObjectNode build(
      BatchConfig config,
      List<PlanItem> plan,
      List<PartSummary> parts,
      List<String> resultUris,
      Instant mergeStart) {
    S3Location out = config.out();
    long rows = 0;
    long scored = 0;
    long failed = 0;
    long low = 0;
    double scoringSeconds = 0;
    Instant started = null;
    Map<String, Long> byLabel = new LinkedHashMap<>();
    Map<String, Long> byBand = new LinkedHashMap<>();
    Map<String, Long> reasons = new LinkedHashMap<>();
    Map<String, Double> stages = new LinkedHashMap<>();
    ArrayNode failures = PartScorer.JSON.createArrayNode();
    ArrayNode samples = PartScorer.JSON.createArrayNode();
    Map<String, long[]> perFile = new LinkedHashMap<>(); // rows, scored, failed, low, parts
    for (PartSummary p : parts) {
      rows += p.rows();
      scored += p.scored();
      failed += p.failedRows();
      low += p.lowConfidenceRows();
      scoringSeconds += p.seconds();
      Instant s = Instant.parse(p.started());
      started = started == null || s.isBefore(started) ? s : started;
      p.byLabel().forEach((k, v) -> byLabel.merge(k, v, Long::sum));
      p.byBand().forEach((k, v) -> byBand.merge(k, v, Long::sum));
      p.failureReasons().forEach((k, v) -> reasons.merge(k, v, Long::sum));
      if (p.stageSeconds() != null) {
        p.stageSeconds().forEach((k, v) -> stages.merge(k, v, Double::sum));
      }
      for (RowFailure f : p.failures()) {
        if (failures.size() < config.maxListedFailures()) {
          failures.add(PartScorer.JSON.valueToTree(f));
        }
      }
      for (String id : p.lowConfidenceSamples()) {
        if (samples.size() < SAMPLE_IDS) {
          samples.add(id);
        }
      }
    }
    for (int i = 0; i < plan.size(); i++) {
      PartSummary p = parts.get(i);
      long[] f = perFile.computeIfAbsent(plan.get(i).name(), k -> new long[5]);
      f[0] += p.rows();
      f[1] += p.scored();
      f[2] += p.failedRows();
      f[3] += p.lowConfidenceRows();
      f[4]++;
    }
    Instant finished = Instant.now();
    if (started == null) {
      started = finished;
    }
    double wall = Duration.between(started, finished).toMillis() / 1000.0;

    ObjectNode m = PartScorer.JSON.createObjectNode();
    m.put("job", config.jobId());
    m.put("status", "succeeded");
    m.put("outcome", failed > 0 ? "rows_failed" : low > 0 ? "low_confidence" : "succeeded");
    m.put("input", config.input().map(S3Location::toString).orElse(null));
    m.put("output", out.toString() + "/");
    PartSummary first = parts.isEmpty() ? null : parts.get(0);
    ObjectNode model = m.putObject("model");
    model.put("name", first == null ? plan.get(0).model() : first.model());
    model.put("version", first == null ? plan.get(0).modelVersion() : first.modelVersion());
    model.put("label", config.modelLabel().orElse(null));
    model.put("signature", first == null ? config.signature() : first.signature());
    model.put("store", config.server().modelBasePath());
    if (first != null && first.lowConfidenceBand() != null) {
      m.putArray("low_confidence_band")
          .add(first.lowConfidenceBand().low())
          .add(first.lowConfidenceBand().high());
    } else {
      m.putNull("low_confidence_band");
    }
    ObjectNode counts = m.putObject("counts");
    counts.put("files", perFile.size());
    counts.put("parts", plan.size());
    counts.put("rows", rows);
    counts.put("scored", scored);
    counts.put("failed_rows", failed);
    counts.put("low_confidence_rows", low);
    counts.set("by_label", PartScorer.JSON.valueToTree(byLabel));
    counts.set("by_band", PartScorer.JSON.valueToTree(byBand));
    counts.set("failure_reasons", PartScorer.JSON.valueToTree(reasons));
    m.set("failures", failures);
    m.put("failures_truncated", failures.size() < failed);
    m.set("low_confidence_samples", samples);
    ObjectNode outputs = m.putObject("outputs");
    ArrayNode results = outputs.putArray("results");
    resultUris.forEach(results::add);
    outputs.put("low_confidence", BatchStore.uri(out, Merger.LOW_CONFIDENCE));
    outputs.put("errors", BatchStore.uri(out, Merger.ERRORS));
    outputs.put("plan", BatchStore.uri(out, Planner.PLAN));
    outputs.put("manifest", BatchStore.uri(out, Planner.MANIFEST));
    ArrayNode files = m.putArray("files");
    for (var e : perFile.entrySet()) {
      PlanItem item = plan.stream().filter(i -> i.name().equals(e.getKey())).findFirst().get();
      ObjectNode f = files.addObject();
      f.put("name", e.getKey());
      f.put("input", item.inputUri());
      f.put("output", BatchStore.uri(out, e.getKey() + ".out"));
      f.put("parts", e.getValue()[4]);
      f.put("rows", e.getValue()[0]);
      f.put("scored", e.getValue()[1]);
      f.put("failed_rows", e.getValue()[2]);
      f.put("low_confidence_rows", e.getValue()[3]);
    }
    ObjectNode t = m.putObject("timings");
    t.put("started", started.toString());
    t.put("finished", finished.toString());
    t.put("wall_seconds", wall);
    t.put("scoring_seconds", scoringSeconds);
    t.put("merge_seconds", Duration.between(mergeStart, finished).toMillis() / 1000.0);
    t.put("rows_per_second", rows / Math.max(wall, 1e-3));
    t.put("rows_per_second_per_task", rows / Math.max(scoringSeconds, 1e-3));
    t.set("scoring_thread_seconds", PartScorer.JSON.valueToTree(stages));
    return m;
  }

  /** The one line a finished job logs. */
  static String summaryLine(JsonNode m) {
    JsonNode c = m.get("counts");
    return String.format(
        "job %s %s: %d rows (%d scored, %d failed, %d low-confidence) in %d file(s), %d part(s),"
            + " model %s v%d, %.1f s, %.0f rows/s; manifest %s",
        m.get("job").asText(),
        m.get("outcome").asText(),
        c.get("rows").asLong(),
        c.get("scored").asLong(),
        c.get("failed_rows").asLong(),
        c.get("low_confidence_rows").asLong(),
        c.get("files").asLong(),
        c.get("parts").asLong(),
        m.at("/model/name").asText(),
        m.at("/model/version").asLong(),
        m.at("/timings/wall_seconds").asDouble(),
        m.at("/timings/rows_per_second").asDouble(),
        m.at("/outputs/manifest").asText());
  }
}
