package dev.mlserve.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop load generator for scripts/bench.sh: POSTs one body at a fixed rate, on a schedule
 * that does not wait for answers, and measures each latency from the moment its request was due
 * (not from when it was sent). A closed-loop generator ({@code hey -q}, wrk) sends the next request
 * only after an answer, so a slow answer also delays the requests behind it and their waiting is
 * never measured: it under-reports tail latency (coordinated omission). This one does not.
 *
 * <p>Like wrk2 it holds a fixed set of keep-alive connections ({@code --connections}) with at most
 * one request in flight on each, and drives them all from one thread: an NIO selector loop sends
 * every request that is due on an idle connection and reads answers as they arrive. A request whose
 * due time passes while every connection is busy goes out when one frees, and its latency still
 * counts from its due time. One thread, because the generator shares the server's cores: a thread
 * per connection with blocking sockets cost ~57 µs of CPU per request (0.63 cores at 11k req/s, two
 * thread wake-ups per request), and the JDK's HttpClient ~600 µs.
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

  /**
   * Sends {@code rate × seconds} requests on schedule from one event loop; returns the result as
   * JSON.
   */
  private static String run(
      InetSocketAddress address, byte[] request, double rate, int seconds, int connections)
      throws IOException {
    int total = (int) Math.round(rate * seconds);
    long interval = Math.round(1e9 / rate);
    long[] latency = new long[total]; // ns from due time; 0 = no answer
    int statusErrors = 0;
    int socketErrors = 0;
    int late = 0;
    try (Selector selector = Selector.open()) {
      ArrayDeque<Connection> idle = new ArrayDeque<>();
      List<Connection> all = new ArrayList<>();
      for (int c = 0; c < connections; c++) {
        Connection conn = new Connection(address, selector);
        all.add(conn);
        idle.add(conn);
      }
      long start = System.nanoTime() + 20_000_000;
      long stopAt = start + (long) seconds * 1_000_000_000L + 15_000_000_000L;
      long nextTimeoutCheck = start;
      int next = 0;
      // a connection is idle exactly when it has no request in flight
      while ((next < total || idle.size() < all.size()) && System.nanoTime() < stopAt) {
        long now = System.nanoTime();
        while (next < total && start + next * interval <= now && !idle.isEmpty()) {
          Connection conn = idle.poll();
          long due = start + next * interval;
          if (now - due > 1_000_000) {
            late++; // sent over 1 ms after its due time
          }
          try {
            conn.send(next, due, request, selector, address);
          } catch (IOException e) {
            socketErrors++;
            conn.close();
            idle.add(conn); // reconnects on its next request
          }
          next++;
        }
        long wait =
            next < total && !idle.isEmpty()
                ? start + next * interval - System.nanoTime()
                : stopAt - System.nanoTime();
        if (wait <= 0) {
          selector.selectNow();
        } else if (wait >= 1_000_000) {
          selector.select(wait / 1_000_000); // wakes early when an answer arrives
        } else if (selector.selectNow() == 0) {
          // select() waits in whole milliseconds; below one, poll every 0.1 ms at most so an
          // answer's time is read within 0.1 ms and the next request goes out on time
          LockSupport.parkNanos(Math.min(wait, 100_000));
        }
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          Connection conn = (Connection) key.attachment();
          boolean wasBusy = conn.busy;
          int status;
          try {
            status = conn.onReady(key);
          } catch (IOException e) {
            conn.close();
            if (wasBusy) {
              socketErrors++;
              idle.add(conn);
            }
            continue;
          }
          if (status > 0) {
            latency[conn.number] = Math.max(1, System.nanoTime() - conn.due);
            if (status != 200) {
              statusErrors++;
            }
            if (conn.closeAfter) {
              conn.close();
            }
            idle.add(conn);
          }
        }
        if (System.nanoTime() >= nextTimeoutCheck) {
          nextTimeoutCheck = System.nanoTime() + 100_000_000;
          for (Connection conn : all) {
            if (conn.busy && System.nanoTime() - conn.sentAt > REQUEST_TIMEOUT_NANOS) {
              conn.close(); // left unanswered: counted as a timeout below
              idle.add(conn);
            }
          }
        }
      }
      for (Connection conn : all) {
        conn.close();
      }
      double duration = (System.nanoTime() - start) / 1e9;
      long[] ok = Arrays.stream(latency).filter(x -> x > 0).sorted().toArray();
      int unanswered = total - ok.length - socketErrors;
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
          statusErrors,
          socketErrors,
          Math.max(0, unanswered),
          mean,
          pct(ok, 0),
          pct(ok, 1),
          pct(ok, 0.5),
          pct(ok, 0.9),
          pct(ok, 0.99),
          pct(ok, 0.999));
    }
  }

  private static final long REQUEST_TIMEOUT_NANOS = 10_000_000_000L;

  /**
   * One keep-alive HTTP/1.1 connection, non-blocking: holds at most one request in flight and
   * collects its answer until the status line, headers and body (Content-Length, chunked, or up to
   * the end of the connection) are all in.
   */
  private static final class Connection {
    private SocketChannel channel;
    private ByteBuffer pending; // what is left to write of the request
    private byte[] in = new byte[16 * 1024];
    private int length;
    int number;
    long due;
    long sentAt;
    boolean busy;
    boolean closeAfter;

    Connection(InetSocketAddress address, Selector selector) throws IOException {
      open(address, selector);
    }

    private void open(InetSocketAddress address, Selector selector) throws IOException {
      SocketChannel ch = SocketChannel.open();
      try {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.socket().connect(address, 5_000);
        ch.configureBlocking(false);
        ch.register(selector, SelectionKey.OP_READ, this);
      } catch (IOException e) {
        ch.close();
        throw e;
      }
      channel = ch;
      closeAfter = false;
    }

    void send(int number, long due, byte[] request, Selector selector, InetSocketAddress address)
        throws IOException {
      if (channel == null) {
        open(address, selector);
      }
      this.number = number;
      this.due = due;
      this.sentAt = System.nanoTime();
      this.busy = true;
      this.length = 0;
      pending = ByteBuffer.wrap(request);
      channel.write(pending);
      if (pending.hasRemaining()) {
        channel.keyFor(selector).interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      }
    }

    /** Returns the answer's status once it is complete, 0 while more is to come. */
    int onReady(SelectionKey key) throws IOException {
      if (key.isValid() && key.isWritable()) {
        channel.write(pending);
        if (!pending.hasRemaining()) {
          key.interestOps(SelectionKey.OP_READ);
        }
      }
      if (!key.isValid() || !key.isReadable()) {
        return 0;
      }
      if (length == in.length) {
        in = Arrays.copyOf(in, in.length * 2);
      }
      int n = channel.read(ByteBuffer.wrap(in, length, in.length - length));
      if (n > 0) {
        length += n;
      }
      if (!busy) {
        if (n < 0) {
          close(); // the server closed an idle connection; the next request reopens it
          return 0;
        }
        throw new IOException("bytes with no request in flight");
      }
      int status = Answer.complete(in, length, n < 0);
      if (status == 0 && n < 0) {
        throw new EOFException("connection closed mid-answer");
      }
      if (status > 0) {
        busy = false;
        closeAfter = n < 0 || Answer.closes(in, length);
      }
      return status;
    }

    void close() {
      busy = false;
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        channel = null;
      }
    }
  }

  /** Reads an HTTP/1.1 answer held in a byte array, as far as it has arrived. */
  static final class Answer {
    private Answer() {}

    /**
     * Returns the status of the answer in {@code buf[0, len)} if it is complete, 0 if more is to
     * come; {@code eof}: the connection has ended (completes an answer with neither Content-Length
     * nor chunked encoding). Throws on what is not an HTTP answer. Reads bytes, no strings or
     * regular expressions: it runs once per answer on the cores the server shares.
     */
    static int complete(byte[] buf, int len, boolean eof) throws IOException {
      int headEnd = indexOf(buf, 0, len, HEAD_END);
      if (headEnd < 0) {
        return 0;
      }
      if (headEnd < 12 || !startsWithIgnoreCase(buf, 0, headEnd, STATUS_PREFIX) || buf[8] != ' ') {
        throw new IOException("not an HTTP answer: " + firstLine(buf, headEnd));
      }
      int status = 0;
      for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9') {
          throw new IOException("not an HTTP status: " + firstLine(buf, headEnd));
        }
        status = status * 10 + buf[i] - '0';
      }
      int body = headEnd + HEAD_END.length;
      if (headerContains(buf, headEnd, TRANSFER_ENCODING, CHUNKED)) {
        return chunkedEnd(buf, body, len) >= 0 ? status : 0;
      }
      int at = headerValue(buf, headEnd, CONTENT_LENGTH);
      if (at >= 0) {
        long size = 0;
        int i = at;
        for (; i < headEnd && buf[i] >= '0' && buf[i] <= '9'; i++) {
          size = size * 10 + buf[i] - '0';
        }
        if (i == at) {
          throw new IOException("bad Content-Length in: " + firstLine(buf, headEnd));
        }
        return len - body >= size ? status : 0;
      }
      return eof ? status : 0; // the body runs to the end of the connection
    }

    /** Whether the server said it closes the connection after this answer. */
    static boolean closes(byte[] buf, int len) {
      int headEnd = indexOf(buf, 0, len, HEAD_END);
      return headEnd >= 0 && headerContains(buf, headEnd, CONNECTION, CLOSE);
    }

    /** Where a complete chunked body starting at {@code from} ends; -1 if more is to come. */
    private static int chunkedEnd(byte[] buf, int from, int len) throws IOException {
      int p = from;
      while (true) {
        int eol = indexOf(buf, p, len, CRLF);
        if (eol < 0) {
          return -1;
        }
        long size = 0;
        int i = p;
        for (; i < eol && Character.digit(buf[i], 16) >= 0; i++) {
          size = size * 16 + Character.digit(buf[i], 16);
        }
        if (i == p) {
          throw new IOException("bad chunk size line");
        }
        p = eol + 2;
        if (size == 0) {
          while (true) { // trailers, up to an empty line
            int end = indexOf(buf, p, len, CRLF);
            if (end < 0) {
              return -1;
            }
            if (end == p) {
              return end + 2;
            }
            p = end + 2;
          }
        }
        if (len - p < size + 2) {
          return -1;
        }
        p += (int) size + 2;
      }
    }

    /**
     * Where the value of header {@code name} (lower case, with its colon) starts, past spaces; -1
     * when the head has no such header.
     */
    private static int headerValue(byte[] buf, int headEnd, byte[] name) {
      for (int line = indexOf(buf, 0, headEnd, CRLF) + 2;
          line > 1 && line < headEnd;
          line = indexOf(buf, line, headEnd, CRLF) + 2) {
        if (startsWithIgnoreCase(buf, line, headEnd, name)) {
          int v = line + name.length;
          while (v < headEnd && (buf[v] == ' ' || buf[v] == '\t')) {
            v++;
          }
          return v;
        }
      }
      return -1;
    }

    /** Whether header {@code name}'s value holds {@code token} (lower case), in any case. */
    private static boolean headerContains(byte[] buf, int headEnd, byte[] name, byte[] token) {
      int v = headerValue(buf, headEnd, name);
      if (v < 0) {
        return false;
      }
      int end = indexOf(buf, v, headEnd, CRLF);
      end = end < 0 ? headEnd : end;
      for (int i = v; i + token.length <= end; i++) {
        if (startsWithIgnoreCase(buf, i, end, token)) {
          return true;
        }
      }
      return false;
    }

    private static boolean startsWithIgnoreCase(byte[] buf, int at, int end, byte[] lower) {
      if (end - at < lower.length) {
        return false;
      }
      for (int j = 0; j < lower.length; j++) {
        byte b = buf[at + j];
        if (b >= 'A' && b <= 'Z') {
          b += 'a' - 'A';
        }
        if (b != lower[j]) {
          return false;
        }
      }
      return true;
    }

    private static String firstLine(byte[] buf, int headEnd) {
      int eol = indexOf(buf, 0, headEnd, CRLF);
      return new String(buf, 0, eol < 0 ? headEnd : eol, StandardCharsets.ISO_8859_1);
    }

    private static int indexOf(byte[] buf, int from, int len, byte[] what) {
      outer:
      for (int i = from; i <= len - what.length; i++) {
        for (int j = 0; j < what.length; j++) {
          if (buf[i + j] != what[j]) {
            continue outer;
          }
        }
        return i;
      }
      return -1;
    }

    private static byte[] ascii(String s) {
      return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static final byte[] HEAD_END = ascii("\r\n\r\n");
    private static final byte[] CRLF = ascii("\r\n");
    private static final byte[] STATUS_PREFIX = ascii("http/1.");
    private static final byte[] CONTENT_LENGTH = ascii("content-length:");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding:");
    private static final byte[] CONNECTION = ascii("connection:");
    private static final byte[] CHUNKED = ascii("chunked");
    private static final byte[] CLOSE = ascii("close");
  }

  private static double pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }
}
