package dev.mlserve.bench;

import dev.mlserve.model.ModelLoader;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TString;

/**
 * The in-process limit: how many rows per second TensorFlow Java gets through the model when
 * nothing else is in the way (no HTTP, no JSON, no batching queue). It loads the model with {@link
 * ModelLoader#load} and calls {@link ModelVersion#run} in a loop, exactly as the service's batch
 * workers do, from each of {@code --threads} threads at each of {@code --batches}.
 *
 * <p>With {@code --tf-threads INTRA,INTER[/INTRA,INTER...]} it measures more paths, with as many
 * calling threads as the largest of {@code --threads}: the same SavedModel loaded with a session
 * {@code ConfigProto} setting TensorFlow's intra-op and inter-op thread pool sizes ({@code 0,0} =
 * TensorFlow's defaults), called through {@code SessionFunction.call} directly. The service cannot
 * load a model with such a configuration today; this shows what it would gain.
 *
 * <p>A benchmark main run by {@code scripts/bench.sh}, not a unit test (nothing is asserted; no
 * timing belongs in the test suite). Run it with the test classpath:
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp app/target/test-classes:app/target/classes:DEPS \
 *   dev.mlserve.bench.ModelThroughput --model-dir models/imdb-sentiment/1 \
 *   --texts scripts/bench/texts.txt --batches 1,32,256 --threads 1,2 --seconds 10 --warmup 3 \
 *   [--tf-threads 0,0/1,1] --out build/bench/raw/inprocess.json
 * </pre>
 *
 * Prints one line per point and, with {@code --out}, writes {@code {"tensorflow": version, "java":
 * runtime, "cores": n, "points": [{path, threads, batch, seconds, calls, rows, rows_per_s,
 * mean_call_ms, cpu_cores, cpu_us_per_row, other_cores}, ...]}}. CPU is the whole process's CPU
 * time during the point (TensorFlow's own thread pools included); other_cores is what every other
 * process used meanwhile (from /proc/stat; -1 where unavailable): how disturbed the point was.
 */
public final class ModelThroughput {
  private ModelThroughput() {}

  record Point(
      String path,
      int threads,
      int batch,
      double seconds,
      long calls,
      long rows,
      double cpuSeconds,
      double machineCpuSeconds) {
    double rowsPerSecond() {
      return rows / seconds;
    }

    double meanCallMillis() {
      return calls == 0 ? 0 : seconds * 1000.0 * threads / calls;
    }

    double cpuCores() {
      return cpuSeconds / seconds;
    }

    /** CPU used by every other process on the machine during the point (-1 when unknown). */
    double otherCores() {
      return machineCpuSeconds < 0 ? -1 : Math.max(0, (machineCpuSeconds - cpuSeconds) / seconds);
    }

    double cpuMicrosPerRow() {
      return rows == 0 ? 0 : cpuSeconds * 1e6 / rows;
    }

    String json() {
      return String.format(
          Locale.ROOT,
          "{\"path\": \"%s\", \"threads\": %d, \"batch\": %d, \"seconds\": %.3f, \"calls\": %d,"
              + " \"rows\": %d, \"rows_per_s\": %.1f, \"mean_call_ms\": %.4f, \"cpu_cores\": %.3f,"
              + " \"cpu_us_per_row\": %.2f, \"other_cores\": %.3f}",
          path,
          threads,
          batch,
          seconds,
          calls,
          rows,
          rowsPerSecond(),
          meanCallMillis(),
          cpuCores(),
          cpuMicrosPerRow(),
          otherCores());
    }
  }

  /** One way of calling the model: for a batch size, a task that makes one call. */
  private interface CallPath {
    Runnable call(int batch, int variant);
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
    String tfThreads = opts.get("--tf-threads");
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

    List<Point> points = new ArrayList<>();
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
    try {
      SignatureSpec spec = model.signature(signature);
      String input = spec.soleInputName();
      if (input == null) {
        throw new IllegalArgumentException("signature " + signature + " must have one input");
      }
      Map<Integer, List<Map<String, Values>>> prepared = new LinkedHashMap<>();
      CallPath service =
          (batch, variant) -> {
            List<Map<String, Values>> vs =
                prepared.computeIfAbsent(batch, b -> inputs(spec, input, texts, b));
            Map<String, Values> in = vs.get(variant % vs.size());
            return () -> model.run(spec, in);
          };
      run("ModelVersion.run", service, threads, batches, warmup, seconds, points);
    } finally {
      model.close();
    }

    if (tfThreads != null) {
      // the raw paths run with as many calling threads as the service has batch workers
      int[] rawThreads = {Arrays.stream(threads).max().orElse(1)};
      for (String cfg : tfThreads.split("/")) {
        int[] it = ints(cfg);
        String label =
            it[0] == 0 && it[1] == 0
                ? "raw TF, default pools"
                : "raw TF, intra " + it[0] + " inter " + it[1];
        ConfigProto config =
            ConfigProto.newBuilder()
                .setIntraOpParallelismThreads(it[0])
                .setInterOpParallelismThreads(it[1])
                .build();
        try (SavedModelBundle bundle =
            SavedModelBundle.loader(modelDir.toString())
                .withTags(SavedModelBundle.DEFAULT_TAG)
                .withConfigProto(config)
                .load()) {
          SessionFunction fn = bundle.function(signature);
          String input = fn.signature().inputNames().iterator().next();
          CallPath raw =
              (batch, variant) -> {
                byte[][] rows = new byte[batch][];
                for (int i = 0; i < batch; i++) {
                  rows[i] = texts.get((variant * 7 + i) % texts.size());
                }
                return () -> {
                  try (TString t =
                      TString.tensorOfBytes(Shape.of(batch, 1), DataBuffers.ofObjects(rows))) {
                    fn.call(Map.of(input, t)).close(); // closes the outputs too
                  }
                };
              };
          run(label, raw, rawThreads, batches, warmup, seconds, points);
        }
      }
    }

    if (out != null) {
      StringBuilder sb = new StringBuilder("{\n");
      sb.append("  \"tensorflow\": \"").append(TensorFlow.version()).append("\",\n");
      sb.append("  \"java\": \"")
          .append(System.getProperty("java.vm.name"))
          .append(' ')
          .append(System.getProperty("java.runtime.version"))
          .append("\",\n");
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

  private static void run(
      String label,
      CallPath path,
      int[] threads,
      int[] batches,
      double warmup,
      double seconds,
      List<Point> points)
      throws InterruptedException {
    for (int t : threads) {
      for (int b : batches) {
        Point p = measure(label, path, t, b, warmup, seconds);
        points.add(p);
        System.out.printf(
            Locale.ROOT,
            "%-28s threads=%d batch=%-4d %10.0f rows/s  %8.3f ms/call  %5.2f cores  %7.1f us CPU/row"
                + "  other %.2f  (%d calls in %.1f s)%n",
            label,
            p.threads(),
            p.batch(),
            p.rowsPerSecond(),
            p.meanCallMillis(),
            p.cpuCores(),
            p.cpuMicrosPerRow(),
            p.otherCores(),
            p.calls(),
            p.seconds());
      }
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

  /** Busy CPU time of the whole machine from /proc/stat, in seconds; -1 where unavailable. */
  private static double machineBusySeconds() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      // user nice system idle iowait irq softirq steal: everything but idle and iowait
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        busy += Long.parseLong(f[i]);
      }
      return busy / 100.0; // USER_HZ is 100 on Linux
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static Point measure(
      String label, CallPath path, int threadCount, int batch, double warmupSeconds, double seconds)
      throws InterruptedException {
    List<Runnable> calls = new ArrayList<>();
    for (int v = 0; v < 8; v++) {
      calls.add(path.call(batch, v));
    }
    AtomicBoolean measuring = new AtomicBoolean(false);
    AtomicBoolean stop = new AtomicBoolean(false);
    AtomicLong counted = new AtomicLong();
    CountDownLatch done = new CountDownLatch(threadCount);
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    for (int t = 0; t < threadCount; t++) {
      final int offset = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  long mine = 0;
                  int i = offset;
                  while (!stop.get()) {
                    calls.get(i++ % calls.size()).run();
                    if (measuring.get()) {
                      mine++;
                    }
                  }
                  counted.addAndGet(mine);
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
    long cpuStart = processCpuNanos();
    double machineStart = machineBusySeconds();
    Thread.sleep((long) (seconds * 1000));
    // A call counts when it finishes inside the window; one started before it and one cut off
    // at its end roughly cancel out (at most one call per thread either way).
    measuring.set(false);
    double elapsed = (System.nanoTime() - start) / 1e9;
    double cpu = (processCpuNanos() - cpuStart) / 1e9;
    double machineEnd = machineBusySeconds();
    double machine = machineStart < 0 || machineEnd < 0 ? -1 : machineEnd - machineStart;
    stop.set(true);
    done.await();
    if (!failures.isEmpty()) {
      throw new IllegalStateException("a benchmark thread failed", failures.get(0));
    }
    long c = counted.get();
    return new Point(label, threadCount, batch, elapsed, c, c * batch, cpu, machine);
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println(
            "ModelThroughput [--model-dir DIR] [--texts FILE] [--batches 1,32,256] [--threads 1,2]"
                + " [--seconds 10] [--warmup 3] [--signature serving_default]"
                + " [--tf-threads INTRA,INTER[/INTRA,INTER...]] [--out FILE.json]");
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
