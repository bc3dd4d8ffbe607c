package dev.mlserve.bench;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop load generator for scripts/bench.sh: POSTs one body at a fixed rate, on a schedule
 * that does not wait for answers, and measures each latency from the moment its request was due
 * (not from when it was sent). A closed-loop generator ({@code hey -q}, wrk) sends the next request
 * only after an answer, so a slow answer also delays the requests behind it and their waiting is
 * never measured: it under-reports tail latency (coordinated omission). This one does not.
 *
 * <p>Like wrk2 it holds a fixed set of keep-alive connections ({@code --connections}), each a
 * thread with a plain socket that takes the next request number, waits for its due time, sends the
 * pre-built request and reads the answer. A request whose due time passes while every connection is
 * busy goes out when one frees, and its latency still counts from its due time. Plain sockets, not
 * the JDK's HttpClient: that client cost ~600 µs of CPU per request here (0.54 cores at 900 req/s),
 * so on 2 cores shared with the server it fell behind long before half load, and with unbounded
 * requests in flight it ran out of heap.
 *
 * <pre>
 * java -cp app/target/test-classes dev.mlserve.bench.OpenLoop --url URL --body FILE \
 *     --rate 5000 --seconds 15 [--warmup 3] [--connections 64] [--out result.json]
 * </pre>
 *
 * Prints and writes JSON in the shape scripts/bench/benchlib.py reads: duration_s, requests, errors
 * {status, socket, timeout}, latency_ms {mean, min, max, p50, p90, p99, p999}, target_rate, late.
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
    int connections = 64;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--url" -> url = args[++i];
        case "--body" -> body = Path.of(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--rate" -> rate = Double.parseDouble(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--connections" -> connections = Integer.parseInt(args[++i]);
        case "-h", "--help" -> {
          System.out.println(
              "usage: OpenLoop --url URL --body FILE --rate REQ_PER_S --seconds N [--warmup N]"
                  + " [--connections N] [--out FILE]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i] + " " + v);
      }
    }
    if (url == null || body == null || !(rate > 0) || seconds < 1 || connections < 1) {
      throw new IllegalArgumentException(
          "--url, --body, --rate > 0, --seconds >= 1 and --connections >= 1 are needed");
    }
    URI uri = URI.create(url);
    InetSocketAddress address =
        new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort());
    byte[] request = request(uri, Files.readAllBytes(body));
    if (warmup > 0) {
      run(address, request, rate, warmup, connections);
    }
    String json = run(address, request, rate, seconds, connections);
    System.out.println(json);
    if (out != null) {
      Files.writeString(out, json + "\n");
    }
  }

  /** The whole HTTP/1.1 request, built once. */
  private static byte[] request(URI uri, byte[] payload) {
    String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    byte[] head =
        ("POST "
                + path
                + " HTTP/1.1\r\nHost: "
                + uri.getHost()
                + ":"
                + uri.getPort()
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + payload.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] all = Arrays.copyOf(head, head.length + payload.length);
    System.arraycopy(payload, 0, all, head.length, payload.length);
    return all;
  }

  /** Sends {@code rate × seconds} requests on schedule; returns the result as JSON. */
  private static String run(
      InetSocketAddress address, byte[] request, double rate, int seconds, int connections)
      throws InterruptedException {
    int total = (int) Math.round(rate * seconds);
    long interval = Math.round(1e9 / rate);
    AtomicLongArray latency = new AtomicLongArray(total); // ns from due time; 0 = no answer
    AtomicInteger next = new AtomicInteger();
    AtomicInteger statusErrors = new AtomicInteger();
    AtomicInteger socketErrors = new AtomicInteger();
    AtomicInteger late = new AtomicInteger();
    long start = System.nanoTime() + 20_000_000; // every connection is open before the first is due
    long stopAt = start + (long) seconds * 1_000_000_000L + 15_000_000_000L;
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      Thread t =
          new Thread(
              () -> {
                Connection conn = null;
                int n;
                while ((n = next.getAndIncrement()) < total && System.nanoTime() < stopAt) {
                  long due = start + n * interval;
                  long wait = due - System.nanoTime();
                  if (wait > 0) {
                    LockSupport.parkNanos(wait);
                  } else if (wait < -1_000_000) {
                    late.incrementAndGet(); // sent over 1 ms after its due time
                  }
                  try {
                    if (conn == null) {
                      conn = new Connection(address);
                    }
                    int status = conn.exchange(request);
                    latency.set(n, Math.max(1, System.nanoTime() - due));
                    if (status != 200) {
                      statusErrors.incrementAndGet();
                    }
                    if (conn.closed) {
                      conn.close();
                      conn = null;
                    }
                  } catch (IOException e) {
                    socketErrors.incrementAndGet();
                    if (conn != null) {
                      conn.close();
                      conn = null;
                    }
                  }
                }
                if (conn != null) {
                  conn.close();
                }
              },
              "open-loop-" + c);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join(Math.max(1, (stopAt - System.nanoTime()) / 1_000_000 + 1_000));
    }
    double duration = (System.nanoTime() - start) / 1e9;
    long[] ok =
        java.util.stream.IntStream.range(0, total)
            .mapToLong(latency::get)
            .filter(x -> x > 0)
            .sorted()
            .toArray();
    int unanswered = total - ok.length - socketErrors.get();
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
        late.get(),
        statusErrors.get(),
        socketErrors.get(),
        Math.max(0, unanswered),
        mean,
        pct(ok, 0),
        pct(ok, 1),
        pct(ok, 0.5),
        pct(ok, 0.9),
        pct(ok, 0.99),
        pct(ok, 0.999));
  }

  /** One keep-alive HTTP/1.1 connection: writes a request, reads one whole answer. */
  private static final class Connection {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final StringBuilder line = new StringBuilder();
    boolean closed;

    Connection(InetSocketAddress address) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(10_000);
      socket.connect(address, 5_000);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
    }

    /**
     * Returns the status; reads the body (Content-Length or chunked) so the next answer lines up.
     */
    int exchange(byte[] request) throws IOException {
      out.write(request);
      out.flush();
      String status = readLine();
      int sp = status.indexOf(' ');
      if (!status.startsWith("HTTP/1.") || sp < 0 || status.length() < sp + 4) {
        throw new IOException("not an HTTP answer: " + status);
      }
      int code = Integer.parseInt(status.substring(sp + 1, sp + 4));
      long length = -1;
      boolean chunked = false;
      for (String h = readLine(); !h.isEmpty(); h = readLine()) {
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(lower.substring(15).trim());
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        } else if (lower.startsWith("connection:") && lower.contains("close")) {
          closed = true;
        }
      }
      if (chunked) {
        for (long size = Long.parseLong(readLine().trim(), 16);
            size > 0;
            size = Long.parseLong(readLine().trim(), 16)) {
          skip(size);
          readLine();
        }
        while (!readLine().isEmpty()) {
          // trailers
        }
      } else if (length >= 0) {
        skip(length);
      } else {
        closed = true; // body runs to the end of the connection
      }
      return code;
    }

    private String readLine() throws IOException {
      line.setLength(0);
      for (int b = in.read(); b != '\n'; b = in.read()) {
        if (b < 0) {
          throw new EOFException("connection closed mid-answer");
        }
        if (b != '\r') {
          line.append((char) b);
        }
      }
      return line.toString();
    }

    private void skip(long n) throws IOException {
      while (n > 0) {
        long s = in.skip(n);
        if (s <= 0) {
          if (in.read() < 0) {
            throw new EOFException("connection closed mid-body");
          }
          s = 1;
        }
        n -= s;
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  private static double pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }
}
