package dev.mlserve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The open-loop generator that scripts/bench.sh measures tail latency with, against a scripted HTTP
 * server on loopback: latency counted from each request's due time, every answer framing the server
 * may use, status errors counted.
 */
class OpenLoopTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /**
   * One connection, answers held 100 ms each, 20 requests due every 50 ms: request n can only be
   * sent once n answers are back (at ≥ 100·n ms) and is answered at ≥ 100·(n+1) ms, so counted from
   * its due time (50·n ms) it waited ≥ 100 + 50·n ms. A closed-loop generator would report ~100 ms
   * for every request.
   */
  @Test
  void countsLatencyFromTheDueTimeWhenTheServerFallsBehind() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            n -> {
              sleep(100);
              return fixed(200, "{\"predictions\": [[0.5]]}");
            })) {
      JsonNode result = run(server, "--rate", "20", "--seconds", "1", "--connections", "1");

      assertEquals(20, result.get("requests").asInt());
      assertEquals(0, errors(result));
      assertEquals(19, result.get("late").asInt(), "every request after the first went out late");
      JsonNode ms = result.get("latency_ms");
      assertTrue(ms.get("min").asDouble() >= 100, "min " + ms);
      assertTrue(ms.get("p50").asDouble() >= 100 + 50 * 9, "p50 (request 9) " + ms);
      assertTrue(ms.get("max").asDouble() >= 100 + 50 * 19, "max (request 19) " + ms);
      assertEquals(20, server.requests.get());
    }
  }

  /**
   * Content-Length, chunked with a trailer, a 503, and an answer that runs to the end of its
   * connection, in turn: each is read whole (no timeouts, no socket errors) and the 503s are
   * counted as status errors.
   */
  @Test
  void readsEveryAnswerFramingAndCountsStatusErrors() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            n ->
                switch (n % 4) {
                  case 0 -> fixed(200, "{\"predictions\": [[0.1]]}");
                  case 1 ->
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          + "5\r\n{\"a\":\r\n3;ext=1\r\n 1}\r\n0\r\nX-Trailer: t\r\n\r\n";
                  case 2 -> fixed(503, "{\"error\": \"overloaded\"}");
                  default -> "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"to\": \"the end\"}";
                })) {
      JsonNode result = run(server, "--rate", "200", "--seconds", "1", "--connections", "4");

      assertEquals(200, result.get("requests").asInt());
      JsonNode errors = result.get("errors");
      assertEquals(50, errors.get("status").asInt(), errors.toString());
      assertEquals(0, errors.get("socket").asInt(), errors.toString());
      assertEquals(0, errors.get("timeout").asInt(), errors.toString());
      assertEquals(200, server.requests.get());
    }
  }

  @Test
  void anAnswerIsCompleteOnlyWhenItsLastByteHasArrived() throws Exception {
    String[] answers = {
      fixed(404, "{\"error\": \"no model\"}"),
      "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    };
    int[] statuses = {404, 200, 204};
    for (int a = 0; a < answers.length; a++) {
      byte[] bytes = answers[a].getBytes(StandardCharsets.US_ASCII);
      for (int len = 0; len < bytes.length; len++) {
        assertEquals(0, OpenLoop.Answer.complete(bytes, len, false), answers[a] + " at " + len);
      }
      assertEquals(statuses[a], OpenLoop.Answer.complete(bytes, bytes.length, false));
    }
    byte[] unframed = "HTTP/1.0 200 OK\r\n\r\nbody".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0, OpenLoop.Answer.complete(unframed, unframed.length, false));
    assertEquals(200, OpenLoop.Answer.complete(unframed, unframed.length, true));
    byte[] notHttp = "SSH-2.0-OpenSSH\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    IOException e =
        assertThrows(
            IOException.class, () -> OpenLoop.Answer.complete(notHttp, notHttp.length, false));
    assertEquals("not an HTTP answer: SSH-2.0-OpenSSH", e.getMessage());
  }

  private JsonNode run(ScriptedServer server, String... options) throws Exception {
    Path body = dir.resolve("body.json");
    Files.writeString(body, "{\"instances\": [\"great movie\"]}");
    Path out = dir.resolve("result.json");
    String[] args = new String[options.length + 6];
    args[0] = "--url";
    args[1] = "http://127.0.0.1:" + server.port() + "/v1/models/m:predict";
    args[2] = "--body";
    args[3] = body.toString();
    args[4] = "--out";
    args[5] = out.toString();
    System.arraycopy(options, 0, args, 6, options.length);
    OpenLoop.main(args);
    return JSON.readTree(out.toFile());
  }

  private static int errors(JsonNode result) {
    JsonNode e = result.get("errors");
    return e.get("status").asInt() + e.get("socket").asInt() + e.get("timeout").asInt();
  }

  private static String fixed(int status, String body) {
    return String.format(
        Locale.ROOT,
        "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
        status,
        body.length(),
        body);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A loopback HTTP/1.1 server, a thread per connection, that answers request n (counted over all
   * connections) with the raw bytes {@code script(n)}, closing the connection after an answer that
   * says {@code Connection: close}.
   */
  private static final class ScriptedServer implements AutoCloseable {
    private final ServerSocket socket;
    private final IntFunction<String> script;
    final AtomicInteger requests = new AtomicInteger();

    ScriptedServer(IntFunction<String> script) throws IOException {
      this.script = script;
      socket = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
      daemon(this::accept);
    }

    int port() {
      return socket.getLocalPort();
    }

    private static void daemon(Runnable body) {
      Thread t = new Thread(body, "scripted-server");
      t.setDaemon(true);
      t.start();
    }

    private void accept() {
      while (!socket.isClosed()) {
        try {
          Socket s = socket.accept();
          daemon(() -> serve(s));
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        while (true) {
          int length = -1;
          for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
              length = Integer.parseInt(line.substring(15).trim());
            }
          }
          in.readNBytes(length);
          String answer = script.apply(requests.getAndIncrement());
          out.write(answer.getBytes(StandardCharsets.US_ASCII));
          out.flush();
          if (answer.contains("Connection: close")) {
            return;
          }
        }
      } catch (IOException e) {
        // the client closed its connection
      }
    }

    private static String readLine(InputStream in) throws IOException {
      StringBuilder line = new StringBuilder();
      for (int b = in.read(); b != '\n'; b = in.read()) {
        if (b < 0) {
          throw new IOException("closed");
        }
        if (b != '\r') {
          line.append((char) b);
        }
      }
      return line.toString();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
