package dev.mlserve.batch;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.mlserve.store.S3Location;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Splits a job into parts: every input file under the input folder, files larger than {@code
 * BATCH_SPLIT_BYTES} cut into byte ranges of about that size (multi-line CSV files are never cut).
 * Writes the plan ({@code _plan.json}, a JSON array the state machine's Distributed Map reads) and
 * first removes an old manifest, so a rerun never leaves the previous run's {@code _SUCCESS} beside
 * half-written new outputs.
 */
final class Planner {
  private static final Logger log = LoggerFactory.getLogger(Planner.class);
  static final String PLAN = "_plan.json";
  static final String MANIFEST = "_SUCCESS";

  private Planner() {}

  static List<PlanItem> plan(BatchStore store, BatchConfig config, ModelChoice model)
      throws IOException {
    S3Location in = config.input().orElseThrow();
    S3Location out = config.out();
    store.delete(out.bucket(), out.key(MANIFEST));
    List<S3Object> listed = store.list(in.bucket(), in.folder());
    List<String[]> files = new ArrayList<>(); // key, relative name
    List<Long> sizes = new ArrayList<>();
    for (S3Object o : listed) {
      String name = o.key().substring(in.folder().length());
      String base = name.substring(name.lastIndexOf('/') + 1);
      if (name.isEmpty() || name.endsWith("/") || base.startsWith("_") || base.startsWith(".")) {
        continue; // folder placeholders, markers such as _READY, hidden files
      }
      if (name.contains("..")) {
        throw new IOException("input key " + o.key() + " contains '..'; rename it");
      }
      files.add(new String[] {o.key(), name});
      sizes.add(o.size());
    }
    if (files.isEmpty() && !in.prefix().isEmpty()) {
      Optional<Long> single = store.size(in.bucket(), in.prefix());
      if (single.isPresent()) {
        files.add(
            new String[] {in.prefix(), in.prefix().substring(in.prefix().lastIndexOf('/') + 1)});
        sizes.add(single.get());
      }
    }
    if (files.isEmpty()) {
      throw new IOException("no input files under " + in);
    }
    List<PlanItem> items = new ArrayList<>();
    for (int f = 0; f < files.size(); f++) {
      String key = files.get(f)[0];
      String name = files.get(f)[1];
      long size = sizes.get(f);
      InputFormat format =
          config
              .format()
              .or(() -> InputFormat.ofFileName(name))
              .orElseThrow(
                  () ->
                      new IOException(
                          "cannot tell the format of "
                              + name
                              + ": name it .jsonl, .csv or .txt, or set BATCH_INPUT_FORMAT"));
      long n =
          config.csvRecords(format)
              ? 1 // a range could start inside a quoted line break
              : Math.max(1, (size + config.splitBytes() - 1) / config.splitBytes());
      for (long i = 0; i < n; i++) {
        long start = size * i / n;
        long end = size * (i + 1) / n;
        items.add(
            new PlanItem(
                String.format("%05d", items.size()),
                "s3://" + in.bucket() + "/" + key,
                name,
                format.id(),
                start + "-" + end,
                model.model(),
                model.version()));
      }
    }
    store.put(
        out.bucket(),
        out.key(PLAN),
        PartScorer.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(items),
        "application/json");
    log.info(
        "job {}: {} file(s), {} part(s), model {} version {}; plan at {}",
        config.jobId(),
        files.size(),
        items.size(),
        model.model(),
        model.version(),
        BatchStore.uri(out, PLAN));
    return items;
  }

  static List<PlanItem> read(BatchStore store, S3Location out) throws IOException {
    byte[] raw =
        store
            .read(out.bucket(), out.key(PLAN))
            .orElseThrow(
                () ->
                    new IOException(
                        "no plan at " + BatchStore.uri(out, PLAN) + " (run `batch plan` first)"));
    return PartScorer.JSON.readValue(raw, new TypeReference<List<PlanItem>>() {});
  }
}
