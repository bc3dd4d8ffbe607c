package dev.mlserve.batch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserve.store.S3Location;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last step of a job: checks every part of the plan finished, joins the parts' results into one
 * {@code <input name>.out} per input file, one {@code low-confidence.jsonl} and one {@code
 * errors.jsonl}, adds up the counts, and writes the manifest {@code _SUCCESS} last; then removes
 * the parts' data (their summaries stay). A job with a missing part gets no manifest (and exits
 * non-zero); a job already merged keeps its manifest and outputs.
 */
final class Merger {
  private static final Logger log = LoggerFactory.getLogger(Merger.class);
  static final String LOW_CONFIDENCE = "low-confidence.jsonl";
  static final String ERRORS = "errors.jsonl";

  private Merger() {}

  static ObjectNode merge(BatchStore store, BatchConfig config, Path workDir) throws IOException {
    S3Location out = config.out();
    List<PlanItem> plan = Planner.read(store, out);
    Optional<byte[]> merged = alreadyMerged(store, out, plan);
    if (merged.isPresent()) { // e.g. a retried merge task whose first try failed to publish
      log.info("job {} is already merged; its manifest stands", config.jobId());
      removePartData(store, out, plan); // finishes a clean-up cut short
      return (ObjectNode) PartScorer.JSON.readTree(merged.get());
    }
    store.delete(out.bucket(), out.key(Planner.MANIFEST));
    List<PartSummary> parts = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (PlanItem item : plan) {
      Optional<byte[]> raw =
          store.read(
              out.bucket(), out.key(PartScorer.partFolder(item.part()) + PartScorer.SUMMARY));
      if (raw.isEmpty()) {
        missing.add(item.part());
      } else {
        parts.add(PartScorer.JSON.readValue(raw.get(), PartSummary.class));
      }
    }
    if (!missing.isEmpty()) {
      throw new IOException(
          "job "
              + config.jobId()
              + ": part(s) "
              + (missing.size() > 20 ? missing.subList(0, 20) + "…" : missing)
              + " of "
              + plan.size()
              + " did not finish; no manifest written");
    }
    for (PartSummary p : parts) {
      if (!p.model().equals(parts.get(0).model())
          || p.modelVersion() != parts.get(0).modelVersion()) {
        throw new IOException(
            "parts were scored with different models: "
                + parts.get(0).model()
                + " v"
                + parts.get(0).modelVersion()
                + " and "
                + p.model()
                + " v"
                + p.modelVersion());
      }
    }
    Instant mergeStart = Instant.now();
    Map<String, List<PlanItem>> byFile = new LinkedHashMap<>();
    for (PlanItem item : plan) {
      byFile.computeIfAbsent(item.name(), k -> new ArrayList<>()).add(item);
    }
    List<String> resultUris = new ArrayList<>();
    for (var e : byFile.entrySet()) {
      String key = e.getKey() + ".out";
      concatenate(store, out, e.getValue(), PartScorer.RESULTS, key, workDir);
      resultUris.add(BatchStore.uri(out, key));
    }
    concatenate(store, out, plan, PartScorer.LOW_CONFIDENCE, LOW_CONFIDENCE, workDir);
    concatenate(store, out, plan, PartScorer.ERRORS, ERRORS, workDir);
    ObjectNode manifest = Manifest.build(config, plan, parts, resultUris, mergeStart);
    store.put(
        out.bucket(),
        out.key(Planner.MANIFEST),
        PartScorer.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest),
        "application/json");
    log.info("{}", Manifest.summaryLine(manifest));
    removePartData(store, out, plan);
    return manifest;
  }

  /**
   * Deletes the parts' data files, which now live in the merged files; their summaries stay (small,
   * and they say the part was scored). Results go first, so a clean-up cut short is recognised.
   */
  private static void removePartData(BatchStore store, S3Location out, List<PlanItem> plan)
      throws IOException {
    for (String f : List.of(PartScorer.RESULTS, PartScorer.LOW_CONFIDENCE, PartScorer.ERRORS)) {
      for (PlanItem item : plan) {
        store.delete(out.bucket(), out.key(PartScorer.partFolder(item.part()) + f));
      }
    }
  }

  /**
   * The manifest of a job whose merge has already written it: the manifest is there and a part's
   * results are gone, which only the clean-up after a manifest does (a new plan deletes the
   * manifest; a part scored again writes its results). Empty for a job to merge now.
   */
  private static Optional<byte[]> alreadyMerged(
      BatchStore store, S3Location out, List<PlanItem> plan) throws IOException {
    Optional<byte[]> manifest = store.read(out.bucket(), out.key(Planner.MANIFEST));
    if (manifest.isEmpty() || plan.isEmpty()) {
      return Optional.empty();
    }
    String first = PartScorer.partFolder(plan.get(0).part());
    boolean cleaned =
        store.size(out.bucket(), out.key(first + PartScorer.SUMMARY)).isPresent()
            && store.size(out.bucket(), out.key(first + PartScorer.RESULTS)).isEmpty();
    return cleaned ? manifest : Optional.empty();
  }

  private static void concatenate(
      BatchStore store,
      S3Location out,
      List<PlanItem> items,
      String partFile,
      String key,
      Path workDir)
      throws IOException {
    List<Map.Entry<String, Long>> sources = new ArrayList<>();
    for (PlanItem item : items) {
      String source = out.key(PartScorer.partFolder(item.part()) + partFile);
      sources.add(
          Map.entry(
              source,
              store
                  .size(out.bucket(), source)
                  .orElseThrow(
                      () ->
                          new IOException("s3://" + out.bucket() + "/" + source + " is missing"))));
    }
    // Inside S3 when the parts allow it (each results file but the last >= 5 MiB): the merge task
    // then neither downloads the job's output nor needs local storage for it.
    if (store.concatenateInPlace(out.bucket(), sources, out.key(key), "application/x-ndjson")) {
      return;
    }
    BatchStore.Upload merged =
        store.upload(
            out.bucket(),
            out.key(key),
            BatchStore.tempFile(workDir, ".merge"),
            "application/x-ndjson");
    try {
      try (merged) {
        for (Map.Entry<String, Long> source : sources) {
          store.appendTo(out.bucket(), source.getKey(), merged);
        }
      }
      merged.complete();
    } finally {
      merged.discard();
    }
  }
}
