package dev.mlserve.bench;

import dev.mlserve.model.ModelLoader;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.TensorFlow;

/**
 * The in-process limit: how many rows per second TensorFlow Java gets through the model when
 * nothing else is in the way (no HTTP, no JSON, no batching queue). It loads the model with
 * {@link ModelLoader#load} and calls {@link ModelVersion#run} in a loop, exactly as the service's
 * batch workers do, from 1 and from 2 threads, at each batch size.
 *
 * <p>A benchmark main run by {@code scripts/bench.sh}, not a unit test (nothing is asserted; no
 * timing belongs in the test suite). Run it with the test classpath:
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp app/target/test-classes:app/target/classes:DEPS \
 *   dev.mlserve.bench.ModelThroughput --model-dir models/imdb-sentiment/1 \
 *   --texts scripts/bench/texts.txt --batches 1,32,256 --threads 1,2 --seconds 10 --warmup 3 \
 *   --out build/bench/raw/inprocess.json
 * </pre>
 *
 * Prints one line per point and, with {@code --out}, writes {@code {"tensorflow": version, "java":
 * runtime, "cores": n, "points": [{threads, batch, seconds, calls, rows, rows_per_s,
 * mean_call_ms}, ...]}}.
 */
public final class ModelThroughput {
  private ModelThroughput() {}

  record Point(int threads, int batch, double seconds, long calls, long rows) {
    double rowsPerSecond() {
      return rows / seconds;
    }

    double meanCallMillis() {
      return calls == 0 ? 0 : seconds * 1000.0 * threads / calls;
    }

    String json() {
      return String.format(
          Locale.ROOT,
          "{\"threads\": %d, \"batch\": %d, \"seconds\": %.3f, \"calls\": %d, \"rows\": %d,"
              + " \"rows_per_s\": %.1f, \"mean_call_ms\": %.4f}",
          threads, batch, seconds, calls, rows, rowsPerSecond(), meanCallMillis());
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    Path modelDir = Path.of(opts.getOrDefault("--model-dir", "models/imdb-sentiment/1"));
    Path textsFile = Path.of(opts.getOrDefault("--texts", "scripts/bench/texts.txt"));
    int[] batches = ints(opts.getOrDefault("--batches", "1,32,256"));
    int[] threads = ints(opts.getOrDefault("--threads", "1,2"));
    double seconds = Double.parseDouble(opts.getOrDefault("--seconds", "10"));
    double warmup = Double.parseDouble(opts.getOrDefault("--warmup", "3"));
    String signature = opts.getOrDefault("--signature", ModelLoader.DEFAULT_SIGNATURE);
    String out = opts.get("--out");

    List<byte[]> texts = new ArrayList<>();
    for (String line : Files.readAllLines(textsFile, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        texts.add(line.getBytes(StandardCharsets.UTF_8));
      }
    }
    if (texts.isEmpty()) {
      throw new IllegalArgumentException("no texts in " + textsFile);
    }

    long loadStart = System.nanoTime();
    ModelVersion model = ModelLoader.load("bench", 1, modelDir);
    System.out.printf(
        Locale.ROOT,
        "loaded %s in %.0f ms (with warm-up call) on TensorFlow %s; %d texts; %d cores%n",
        modelDir,
        (System.nanoTime() - loadStart) / 1e6,
        TensorFlow.version(),
        texts.size(),
        Runtime.getRuntime().availableProcessors());
    SignatureSpec spec = model.signature(signature);
    String input = spec.soleInputName();
    if (input == null) {
      throw new IllegalArgumentException("signature " + signature + " must have one input");
    }

    List<Point> points = new ArrayList<>();
    try {
      for (int t : threads) {
        for (int b : batches) {
          Point p = measure(model, spec, input, texts, t, b, warmup, seconds);
          points.add(p);
          System.out.printf(
              Locale.ROOT,
              "threads=%d batch=%-4d %10.0f rows/s  %8.3f ms/call  (%d calls in %.1f s)%n",
              p.threads(),
              p.batch(),
              p.rowsPerSecond(),
              p.meanCallMillis(),
              p.calls(),
              p.seconds());
        }
      }
    } finally {
      model.close();
    }
    if (out != null) {
      StringBuilder sb = new StringBuilder("{\n");
      sb.append("  \"tensorflow\": \"").append(TensorFlow.version()).append("\",\n");
      sb.append("  \"java\": \"").append(System.getProperty("java.vm.name")).append(' ')
          .append(System.getProperty("java.runtime.version")).append("\",\n");
      sb.append("  \"cores\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n");
      sb.append("  \"points\": [\n");
      for (int i = 0; i < points.size(); i++) {
        sb.append("    ").append(points.get(i).json()).append(i + 1 < points.size() ? ",\n" : "\n");
      }
      sb.append("  ]\n}\n");
      Path o = Path.of(out);
      if (o.getParent() != null) {
        Files.createDirectories(o.getParent());
      }
      Files.writeString(o, sb.toString(), StandardCharsets.UTF_8);
    }
  }

  /** Inputs for one batch size: a few different mixes of the texts, conformed once up front. */
  private static List<Map<String, Values>> inputs(
      SignatureSpec spec, String input, List<byte[]> texts, int batch) {
    List<Map<String, Values>> variants = new ArrayList<>();
    for (int v = 0; v < Math.min(texts.size(), 8); v++) {
      byte[][] rows = new byte[batch][];
      for (int i = 0; i < batch; i++) {
        rows[i] = texts.get((v * 7 + i) % texts.size());
      }
      variants.add(spec.conform(Map.of(input, Values.strings(new long[] {batch}, rows))));
    }
    return variants;
  }

  private static Point measure(
      ModelVersion model,
      SignatureSpec spec,
      String input,
      List<byte[]> texts,
      int threadCount,
      int batch,
      double warmupSeconds,
      double seconds)
      throws InterruptedException {
    List<Map<String, Values>> variants = inputs(spec, input, texts, batch);
    AtomicBoolean measuring = new AtomicBoolean(false);
    AtomicBoolean stop = new AtomicBoolean(false);
    AtomicLong calls = new AtomicLong();
    CountDownLatch done = new CountDownLatch(threadCount);
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int t = 0; t < threadCount; t++) {
      final int offset = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  long mine = 0;
                  int i = offset;
                  while (!stop.get()) {
                    model.run(spec, variants.get(i++ % variants.size()));
                    if (measuring.get()) {
                      mine++;
                    }
                  }
                  calls.addAndGet(mine);
                } catch (Throwable e) {
                  failures.add(e);
                } finally {
                  done.countDown();
                }
              },
              "bench-" + t);
      th.setDaemon(true);
      th.start();
    }
    Thread.sleep((long) (warmupSeconds * 1000));
    measuring.set(true);
    long start = System.nanoTime();
    Thread.sleep((long) (seconds * 1000));
    // A call counts when it finishes inside the window; one started before it and one cut off
    // at its end roughly cancel out (at most one call per thread either way).
    measuring.set(false);
    double elapsed = (System.nanoTime() - start) / 1e9;
    stop.set(true);
    done.await();
    if (!failures.isEmpty()) {
      throw new IllegalStateException("a benchmark thread failed", failures.get(0));
    }
    long c = calls.get();
    return new Point(threadCount, batch, elapsed, c, c * batch);
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println(
            "ModelThroughput [--model-dir DIR] [--texts FILE] [--batches 1,32,256] [--threads 1,2]"
                + " [--seconds 10] [--warmup 3] [--signature serving_default] [--out FILE.json]");
        System.exit(0);
      }
      if (!a.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("unknown or incomplete argument: " + a);
      }
      opts.put(a, args[++i]);
    }
    return opts;
  }

  private static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
  }
}
