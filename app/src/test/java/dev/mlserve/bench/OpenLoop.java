package dev.mlserve.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop load generator for scripts/bench.sh: POSTs one body at a fixed rate, on a schedule
 * that does not wait for answers, and measures each latency from the moment its request was due
 * (not from when it was sent). A closed-loop generator ({@code hey -q}, wrk) sends the next request
 * only after an answer, so a slow answer also delays the requests behind it and their waiting is
 * never measured: it under-reports tail latency (coordinated omission). This one cannot.
 *
 * <pre>
 * java -cp app/target/test-classes dev.mlserve.bench.OpenLoop --url URL --body FILE \
 *     --rate 5000 --seconds 15 [--warmup 3] [--out result.json]
 * </pre>
 *
 * Prints and writes JSON in the shape scripts/bench/benchlib.py reads: duration_s, requests, errors
 * {status, socket}, latency_ms {mean, min, max, p50, p90, p99, p999}, target_rate, late.
 */
public final class OpenLoop {
  private OpenLoop() {}

  public static void main(String[] args) throws Exception {
    String url = null;
    Path body = null;
    Path out = null;
    double rate = 0;
    int seconds = 10;
    int warmup = 0;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--url" -> url = args[++i];
        case "--body" -> body = Path.of(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--rate" -> rate = Double.parseDouble(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "-h", "--help" -> {
          System.out.println(
              "usage: OpenLoop --url URL --body FILE --rate REQ_PER_S --seconds N [--warmup N]"
                  + " [--out FILE]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i] + " " + v);
      }
    }
    if (url == null || body == null || !(rate > 0) || seconds < 1) {
      throw new IllegalArgumentException("--url, --body, --rate > 0 and --seconds >= 1 are needed");
    }
    byte[] payload = Files.readAllBytes(body);
    ExecutorService io = Executors.newFixedThreadPool(2, OpenLoop::daemon);
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .executor(io)
            .build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
            .build();
    if (warmup > 0) {
      run(client, request, rate, warmup);
    }
    String json = run(client, request, rate, seconds);
    System.out.println(json);
    if (out != null) {
      Files.writeString(out, json + "\n");
    }
    io.shutdownNow();
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "open-loop-io");
    t.setDaemon(true);
    return t;
  }

  /** Sends {@code rate × seconds} requests on schedule; returns the result as JSON. */
  private static String run(HttpClient client, HttpRequest request, double rate, int seconds)
      throws InterruptedException {
    int total = (int) Math.round(rate * seconds);
    long interval = Math.round(1e9 / rate);
    AtomicLongArray latency = new AtomicLongArray(total); // ns from due time; -1 = failed
    AtomicInteger done = new AtomicInteger();
    AtomicInteger statusErrors = new AtomicInteger();
    AtomicInteger socketErrors = new AtomicInteger();
    int late = 0;
    long start = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      } else if (wait < -1_000_000) {
        late++; // the generator itself fell behind by over 1 ms: the machine is saturated
      }
      int n = i;
      client
          .sendAsync(request, HttpResponse.BodyHandlers.discarding())
          .whenComplete(
              (r, e) -> {
                long ns = System.nanoTime() - due;
                if (e != null) {
                  socketErrors.incrementAndGet();
                  latency.set(n, -1);
                } else {
                  if (r.statusCode() != 200) {
                    statusErrors.incrementAndGet();
                  }
                  latency.set(n, ns);
                }
                done.incrementAndGet();
              });
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (done.get() < total && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    double duration = (System.nanoTime() - start) / 1e9;
    int unanswered = total - done.get();
    long[] ok =
        java.util.stream.IntStream.range(0, total)
            .mapToLong(latency::get)
            .filter(x -> x > 0)
            .sorted()
            .toArray();
    double mean = Arrays.stream(ok).average().orElse(0) / 1e6;
    return String.format(
        Locale.ROOT,
        "{\"duration_s\": %.3f, \"requests\": %d, \"target_rate\": %.1f, \"late\": %d,"
            + " \"errors\": {\"status\": %d, \"socket\": %d, \"timeout\": %d},"
            + " \"latency_ms\": {\"mean\": %.3f, \"min\": %.3f, \"max\": %.3f, \"p50\": %.3f,"
            + " \"p90\": %.3f, \"p99\": %.3f, \"p999\": %.3f}}",
        Math.max(duration, seconds),
        total,
        rate,
        late,
        statusErrors.get(),
        socketErrors.get(),
        unanswered,
        mean,
        pct(ok, 0),
        pct(ok, 1),
        pct(ok, 0.5),
        pct(ok, 0.9),
        pct(ok, 0.99),
        pct(ok, 0.999));
  }

  private static double pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }

  static {
    // keep-alive connections are reused; more open as the schedule needs them
    System.setProperty("jdk.httpclient.keepalive.timeout", "30");
  }
}
