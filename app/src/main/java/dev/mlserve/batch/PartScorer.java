package dev.mlserve.batch;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserve.config.Band;
import dev.mlserve.errors.ServingException;
import dev.mlserve.store.S3Location;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores one part of a job: streams its byte range of the input from S3, parses rows on one thread,
 * runs TensorFlow in chunks of {@code BATCH_CHUNK_ROWS} on {@code BATCH_SCORING_THREADS} threads
 * (the calling thread and the others) and writes results in input order on a writer thread, through
 * small bounded queues (memory stays flat whatever the file size). Outputs go to local temp files,
 * are uploaded under {@code parts/<part>/}, and {@code _part.json} is written last: a part without
 * it is not done.
 */
final class PartScorer {
  private static final Logger log = LoggerFactory.getLogger(PartScorer.class);
  static final ObjectMapper JSON = new ObjectMapper();
  static final String RESULTS = "result.out";
  static final String LOW_CONFIDENCE = "low-confidence.jsonl";
  static final String ERRORS = "errors.jsonl";
  static final String SUMMARY = "_part.json";
  private static final int QUEUE_CHUNKS = 4;
  private static final int SAMPLE_IDS = 10;

  private final BatchStore store;
  private final BatchConfig config;
  private final ScoringModel model;
  private final Path workDir;

  PartScorer(BatchStore store, BatchConfig config, ScoringModel model, Path workDir) {
    this.store = store;
    this.config = config;
    this.model = model;
    this.workDir = workDir;
  }

  /** The folder of a part's outputs, relative to the job's output folder. */
  static String partFolder(String part) {
    return "parts/" + part + "/";
  }

  /** A chunk of parsed input: rows to score and rows that already failed; seq is its order. */
  private record Chunk(long seq, List<Row> rows, List<RowFailure> failures) {}

  private record Scored(Chunk chunk, float[][] scores, List<RowFailure> rejected) {}

  private static final Chunk END = new Chunk(-1, List.of(), List.of());

  PartSummary score(PlanItem item) throws IOException {
    S3Location in = S3Location.parse(item.inputUri());
    S3Location out = config.out();
    ByteRange range = ByteRange.parse(item.byteRange());
    InputFormat format = InputFormat.named(item.format()).orElseThrow();
    String folder = partFolder(item.part());
    // A rerun first takes the old summary away: until the new one is written, the part is not done.
    store.delete(out.bucket(), out.key(folder + SUMMARY));
    Instant started = Instant.now();
    RowParser parser =
        new RowParser(
            format,
            item.name(),
            config.textField(),
            config.idField(),
            config.server().limits().maxTextChars(),
            config.csvMultiline());
    int maxLine = maxLineBytes();
    boolean csvRecords = config.csvRecords(format);
    if (csvRecords && range.start() > 0) {
      throw new IOException(
          item.inputUri()
              + ": a multi-line CSV (BATCH_CSV_MULTILINE=true) is read whole; got the byte range "
              + item.byteRange());
    }
    if (format == InputFormat.CSV && range.start() > 0) {
      try (InputStream header = store.openFrom(in.bucket(), in.prefix(), 0)) {
        LineReader.Line first = new LineReader(header, 0, maxLine).next();
        if (first == null || first.tooLong()) {
          throw new IOException(item.inputUri() + ": no CSV header line");
        }
        parser.csvHeader(first.bytes(), first.length());
      }
    }
    Counts counts = new Counts(config.maxListedFailures());
    Stages stages = new Stages();
    // Uploaded while they are written; visible only once complete, after the scoring.
    BatchStore.Upload results = output(out.key(folder + RESULTS), ".out");
    BatchStore.Upload low = output(out.key(folder + LOW_CONFIDENCE), ".jsonl");
    BatchStore.Upload errors = output(out.key(folder + ERRORS), ".jsonl");
    try (Progress progress =
        new Progress(item.part(), range.length(), config.progressInterval().toMillis())) {
      if (range.length() > 0) {
        run(
            stages,
            in,
            item.name(),
            range,
            format,
            csvRecords,
            parser,
            maxLine,
            progress,
            counts,
            results,
            low,
            errors);
      }
      results.complete();
      low.complete();
      errors.complete();
      double seconds = progress.seconds(); // scored and uploaded
      PartSummary summary =
          new PartSummary(
              item.part(),
              item.name(),
              item.inputUri(),
              item.byteRange(),
              format.id(),
              model.choice().model(),
              model.choice().version(),
              model.signatureKey(),
              model.choice().band(),
              counts.scored + counts.failed,
              counts.scored,
              counts.failed,
              counts.lowConfidence,
              counts.byLabel,
              counts.byBand(model.choice().band() != null),
              counts.reasons,
              counts.failures,
              counts.lowSamples,
              started.toString(),
              Instant.now().toString(),
              seconds,
              (counts.scored + counts.failed) / Math.max(seconds, 1e-9),
              stages.seconds());
      store.put(
          out.bucket(),
          out.key(folder + SUMMARY),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(summary),
          "application/json");
      log.info(
          "part {} done: {} rows ({} scored, {} failed, {} low-confidence) of {} [{}] in {} s, {}"
              + " rows/s; scoring threads {}",
          item.part(),
          summary.rows(),
          summary.scored(),
          summary.failedRows(),
          summary.lowConfidenceRows(),
          item.name(),
          item.byteRange(),
          String.format("%.1f", seconds),
          String.format("%.0f", summary.rowsPerSecond()),
          summary.stageSeconds());
      return summary;
    } finally {
      results.discard();
      low.discard();
      errors.discard();
    }
  }

  private BatchStore.Upload output(String key, String suffix) throws IOException {
    return store.upload(
        config.out().bucket(), key, BatchStore.tempFile(workDir, suffix), "application/x-ndjson");
  }

  private int maxLineBytes() {
    long chars = config.server().limits().maxTextChars();
    return (int) Math.min(Integer.MAX_VALUE - 16, Math.max(1 << 20, chars * 4 + (64 << 10)));
  }

  /**
   * Where the scoring threads' time went, summed over them: the bottleneck is the stage they waited
   * for.
   */
  static final class Stages {
    long inputWait;
    long model;
    long outputWait;

    synchronized void add(long input, long inModel, long output) {
      inputWait += input;
      model += inModel;
      outputWait += output;
    }

    Map<String, Double> seconds() {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("waiting_for_input", inputWait / 1e9);
      m.put("model", model / 1e9);
      m.put("waiting_for_output", outputWait / 1e9);
      return m;
    }
  }

  private void run(
      Stages stages,
      S3Location in,
      String file,
      ByteRange range,
      InputFormat format,
      boolean csvRecords,
      RowParser parser,
      int maxLine,
      Progress progress,
      Counts counts,
      OutputStream results,
      OutputStream low,
      OutputStream errors)
      throws IOException {
    BlockingQueue<Chunk> parsed = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
    BlockingQueue<Scored> scored = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long from = LineReader.fetchFrom(range);
    Thread reader =
        new Thread(
            () -> {
              try (InputStream stream = store.openFrom(in.bucket(), in.prefix(), from)) {
                read(
                    new LineReader(stream, from, maxLine, csvRecords),
                    range,
                    format,
                    parser,
                    parsed,
                    progress);
              } catch (Throwable t) {
                failure.compareAndSet(null, t);
              } finally {
                endQuietly(parsed, failure);
              }
            },
            "batch-reader");
    Thread writer =
        new Thread(
            () -> {
              try {
                write(scored, counts, results, low, errors, progress);
              } catch (Throwable t) {
                failure.compareAndSet(null, t);
                drain(scored); // the scoring threads must never block on a dead writer
              }
            },
            "batch-writer");
    List<Thread> scorers = new ArrayList<>();
    for (int i = 1; i < config.scoringThreads(); i++) {
      scorers.add(
          new Thread(() -> scoreAll(parsed, scored, file, stages, failure), "batch-scorer-" + i));
    }
    reader.setDaemon(true);
    writer.setDaemon(true);
    reader.start();
    writer.start();
    for (Thread t : scorers) {
      t.setDaemon(true);
      t.start();
    }
    try {
      scoreAll(parsed, scored, file, stages, failure);
    } finally {
      if (failure.get() != null) {
        reader.interrupt(); // stops a reader still blocked on a full queue after a failure
        scorers.forEach(Thread::interrupt);
      }
      try {
        for (Thread t : scorers) {
          t.join();
        }
        scored.put(new Scored(END, null, null)); // the writer consumes (or drains) until this
        writer.join();
        reader.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure.compareAndSet(null, e);
      }
    }
    Throwable t = failure.get();
    if (t != null) {
      throw t instanceof IOException io ? io : new IOException(t.toString(), t);
    }
  }

  /** One scoring thread: takes parsed chunks until the end (or a failure), scores, hands on. */
  private void scoreAll(
      BlockingQueue<Chunk> parsed,
      BlockingQueue<Scored> scored,
      String file,
      Stages stages,
      AtomicReference<Throwable> failure) {
    long input = 0;
    long inModel = 0;
    long output = 0;
    try {
      while (failure.get() == null) {
        long t0 = System.nanoTime();
        Chunk c = parsed.take();
        long t1 = System.nanoTime();
        if (c == END) {
          parsed.put(END); // for the other scoring threads
          break;
        }
        Scored done = scoreChunk(c, file);
        long t2 = System.nanoTime();
        scored.put(done);
        input += t1 - t0;
        inModel += t2 - t1;
        output += System.nanoTime() - t2;
      }
    } catch (InterruptedException | RuntimeException | Error e) {
      failure.compareAndSet(null, e);
    } finally {
      stages.add(input, inModel, output);
    }
  }

  private void read(
      LineReader lines,
      ByteRange range,
      InputFormat format,
      RowParser parser,
      BlockingQueue<Chunk> out,
      Progress progress)
      throws IOException, InterruptedException {
    lines.enter(range);
    if (range.start() == 0 && format == InputFormat.CSV) {
      LineReader.Line header = lines.next();
      if (header == null || header.tooLong()) {
        throw new IOException("no CSV header line");
      }
      parser.csvHeader(header.bytes(), header.length());
    }
    int chunkRows = config.chunkRows();
    List<Row> rows = new ArrayList<>(chunkRows);
    List<RowFailure> failed = new ArrayList<>();
    long seq = 0;
    LineReader.Line line;
    while ((line = lines.nextIn(range)) != null) {
      RowParser.Parsed p = parser.parse(line);
      if (p == null) {
        continue;
      }
      if (p.row() != null) {
        rows.add(p.row());
      } else {
        failed.add(p.failure());
      }
      if (rows.size() >= chunkRows || failed.size() >= chunkRows) {
        progress.bytes.set(lines.position() - range.start());
        out.put(new Chunk(seq++, rows, failed));
        rows = new ArrayList<>(chunkRows);
        failed = new ArrayList<>();
      }
    }
    progress.bytes.set(range.length());
    if (!rows.isEmpty() || !failed.isEmpty()) {
      out.put(new Chunk(seq, rows, failed));
    }
  }

  private Scored scoreChunk(Chunk c, String file) {
    if (c.rows().isEmpty()) {
      return new Scored(c, new float[0][], List.of());
    }
    byte[][] texts = new byte[c.rows().size()][];
    for (int i = 0; i < texts.length; i++) {
      texts[i] = c.rows().get(i).text();
    }
    try {
      return new Scored(c, model.score(texts), List.of());
    } catch (ServingException whole) {
      if (!(whole instanceof ServingException.BadInput
          || whole instanceof ServingException.ModelRejected)) {
        throw whole; // the model failed, not the input: the part fails and is retried
      }
      // One bad row must not fail its batch-mates: score them one by one to find it.
      float[][] scores = new float[texts.length][];
      List<RowFailure> rejected = new ArrayList<>();
      for (int i = 0; i < texts.length; i++) {
        try {
          scores[i] = model.score(new byte[][] {texts[i]})[0];
        } catch (ServingException e) {
          Row r = c.rows().get(i);
          rejected.add(
              new RowFailure(
                  file, r.offset(), r.id().asText(), RowFailure.MODEL_REJECTED, e.getMessage()));
        }
      }
      return new Scored(c, scores, rejected);
    }
  }

  private void write(
      BlockingQueue<Scored> in,
      Counts counts,
      OutputStream results,
      OutputStream low,
      OutputStream errors,
      Progress p)
      throws IOException, InterruptedException {
    Band band = model.choice().band();
    List<String> labels = config.labels();
    ByteArrayOutputStream row = new ByteArrayOutputStream(4096);
    try (results;
        low;
        errors;
        JsonGenerator g = JSON.getFactory().createGenerator(row)) {
      g.setRootValueSeparator(null); // one object per line, no space between them
      // Scoring threads finish chunks out of order; results are written in input order.
      Map<Long, Scored> ahead = new HashMap<>();
      long next = 0;
      while (true) {
        Scored taken = in.take();
        if (taken.chunk() == END) {
          break;
        }
        ahead.put(taken.chunk().seq(), taken);
        Scored s;
        while ((s = ahead.remove(next)) != null) {
          next++;
          writeChunk(s, g, row, band, labels, counts, results, low, errors);
          p.rows.addAndGet(s.chunk().rows().size() + s.chunk().failures().size());
        }
      }
      if (!ahead.isEmpty()) {
        throw new IllegalStateException("chunks " + ahead.keySet() + " came after a missing one");
      }
    }
  }

  private static void writeChunk(
      Scored s,
      JsonGenerator g,
      ByteArrayOutputStream row,
      Band band,
      List<String> labels,
      Counts counts,
      OutputStream res,
      OutputStream lowOut,
      OutputStream errOut)
      throws IOException {
    for (List<RowFailure> failures : List.of(s.chunk().failures(), s.rejected())) {
      for (RowFailure f : failures) {
        counts.fail(f);
        JSON.writeValue(new NoClose(errOut), f);
        errOut.write('\n');
      }
    }
    List<Row> rows = s.chunk().rows();
    for (int i = 0; i < rows.size(); i++) {
      float[] scores = s.scores()[i];
      if (scores == null) {
        continue; // rejected by the model, counted above
      }
      Row r = rows.get(i);
      boolean flagged = band != null && scores.length == 1 && band.flags(scores[0]);
      String label = label(scores, labels);
      g.writeStartObject();
      g.writeFieldName("id");
      g.writeTree(r.id());
      if (r.fields().length > 0) {
        g.flush(); // the kept fields go in as the input's bytes, between the generator's own
        row.write(',');
        row.write(r.fields());
      }
      if (scores.length == 1) {
        g.writeNumberField("score", scores[0]);
      } else {
        g.writeArrayFieldStart("scores");
        for (float f : scores) {
          g.writeNumber(f);
        }
        g.writeEndArray();
      }
      g.writeStringField("label", label);
      g.writeBooleanField("low_confidence", flagged);
      g.writeEndObject();
      g.flush();
      row.write('\n');
      row.writeTo(res);
      if (flagged) {
        row.writeTo(lowOut);
      }
      row.reset();
      counts.scored(r, scores, label, flagged, band);
    }
  }

  private static String label(float[] scores, List<String> labels) {
    int best;
    if (scores.length == 1) {
      best = scores[0] >= 0.5f ? 1 : 0;
    } else {
      best = 0;
      for (int i = 1; i < scores.length; i++) {
        if (scores[i] > scores[best]) {
          best = i;
        }
      }
    }
    return best < labels.size() ? labels.get(best) : Integer.toString(best);
  }

  /** Ends the parsed queue: blocking while the job runs, never once it has failed. */
  private static void endQuietly(BlockingQueue<Chunk> q, AtomicReference<Throwable> failure) {
    try {
      if (failure.get() != null) {
        q.offer(END);
      } else {
        q.put(END);
      }
    } catch (InterruptedException e) {
      q.offer(END);
    }
  }

  private static void drain(BlockingQueue<Scored> q) {
    try {
      while (q.take().chunk() != END) {
        // discard: the job has failed
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Lets Jackson write one value into a shared stream without closing it. */
  private static final class NoClose extends java.io.FilterOutputStream {
    NoClose(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() {}
  }

  /** A part's counts, kept by the writer thread. */
  static final class Counts {
    final int maxListed;
    long scored;
    long failed;
    long lowConfidence;
    long below;
    long within;
    long above;
    final Map<String, Long> byLabel = new LinkedHashMap<>();
    final Map<String, Long> reasons = new LinkedHashMap<>();
    final List<RowFailure> failures = new ArrayList<>();
    final List<String> lowSamples = new ArrayList<>();

    Counts(int maxListed) {
      this.maxListed = maxListed;
    }

    void fail(RowFailure f) {
      failed++;
      reasons.merge(f.reason(), 1L, Long::sum);
      if (failures.size() < maxListed) {
        failures.add(f);
      }
    }

    void scored(Row r, float[] scores, String label, boolean flagged, Band band) {
      scored++;
      byLabel.merge(label, 1L, Long::sum);
      if (band != null && scores.length == 1) {
        if (scores[0] < band.low()) {
          below++;
        } else if (scores[0] > band.high()) {
          above++;
        } else {
          within++;
        }
      }
      if (flagged) {
        lowConfidence++;
        if (lowSamples.size() < SAMPLE_IDS) {
          lowSamples.add(r.id().asText());
        }
      }
    }

    Map<String, Long> byBand(boolean banded) {
      Map<String, Long> m = new LinkedHashMap<>();
      if (banded) {
        m.put("below", below);
        m.put("within", within);
        m.put("above", above);
      }
      return m;
    }
  }
}
