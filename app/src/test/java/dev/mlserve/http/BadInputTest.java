package dev.mlserve.http;

import static dev.mlserve.TestSupport.get;
import static dev.mlserve.TestSupport.post;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mlserve.App;
import dev.mlserve.TestSupport;
import dev.mlserve.TestSupport.Reply;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * Every class of bad input gets a 4xx with {"error": "..."} naming the problem, is logged once, and
 * leaves the server serving.
 */
class BadInputTest {
  private static final String PREDICT = "/v1/models/imdb-sentiment:predict";
  private static final String INFER = "/v2/models/imdb-sentiment/infer";
  private static App app;
  private static final ListAppender<ILoggingEvent> requestLog = new ListAppender<>();

  @BeforeAll
  static void start() {
    app =
        TestSupport.startServer(
            Map.of("MAX_BODY_BYTES", "65536", "MAX_ROWS", "50", "MAX_TEXT_CHARS", "2000"));
    requestLog.start();
    ((Logger) LoggerFactory.getLogger("dev.mlserve.requests")).addAppender(requestLog);
  }

  @AfterAll
  static void stop() {
    ((Logger) LoggerFactory.getLogger("dev.mlserve.requests")).detachAppender(requestLog);
    app.close();
  }

  @AfterEach
  void stillServing() {
    Reply ok = post(app, PREDICT, "{\"instances\": [\"still here\"]}");
    assertThat(ok.status()).as("the server keeps serving after bad input").isEqualTo(200);
  }

  private static void expect(Reply r, int status, String errorPart) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.header("Content-Type")).startsWith("application/json");
    assertThat(r.json().get("error").asText()).contains(errorPart);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"instances": ["a"                                | 400 | malformed JSON
          not json at all                                   | 400 | malformed JSON
          [1, 2]                                            | 400 | must be a JSON object
          "text"                                            | 400 | must be a JSON object
          {}                                                | 400 | exactly one of 'instances'
          {"instances": ["a"], "inputs": ["a"]}             | 400 | exactly one of 'instances'
          {"instances": "a"}                                | 400 | 'instances' must be a list
          {"instances": []}                                 | 400 | 'instances' is empty
          {"instances": [1, 2]}                             | 400 | must hold strings (DT_STRING, V2 BYTES) but the request sent whole numbers (DT_INT64
          {"instances": [null]}                             | 400 | is null
          {"instances": [["a", "b"]]}                       | 400 | must have shape [?, 1] but got [1, 2]
          {"instances": [[["a"]]]}                          | 400 | must have shape [?, 1] but got [1, 1, 1]
          {"instances": [["a"], ["b", "c"]]}                | 400 | ragged nesting
          {"instances": [{"txt": "a"}]}                     | 400 | has no input 'txt'
          {"instances": [{"b64": "%%%"}]}                   | 400 | invalid base64
          {"inputs": {"nope": ["a"]}}                       | 400 | has no input 'nope'
          {"inputs": "a"}                                   | 400 | must have shape [?, 1] but got []
          {"signature_name": 7, "instances": ["a"]}         | 400 | signature_name must be a string
          {"signature_name": "nope", "instances": ["a"]}    | 400 | Serving signature name: "nope" not found in signature def
          """)
  void tfServingPredictRejects(String body, int status, String error) {
    Reply r = post(app, PREDICT, body);
    expect(r, status, error);
    expectLoggedOnce(r, status);
  }

  private static void expectLoggedOnce(Reply r, int status) {
    // a successful request's line may land a moment after its answer: count this request's own
    String id = "request_id=" + r.header("X-Request-Id");
    List<String> lines;
    synchronized (requestLog) { // the lock AppenderBase.doAppend holds while it adds
      lines =
          requestLog.list.stream()
              .map(ILoggingEvent::getFormattedMessage)
              .filter(l -> l.contains(id))
              .toList();
    }
    assertThat(lines).as("logged exactly once").hasSize(1);
    assertThat(lines.get(0)).contains("request failed").contains("status=" + status);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          /v1/models/nope:predict                        | 404 | model 'nope' is not served here
          /v1/models/imdb-sentiment/versions/9:predict   | 404 | has no version 9
          /v1/models/imdb-sentiment/versions/abc:predict | 400 | invalid version 'abc'
          /v1/models/imdb-sentiment/versions/0:predict   | 400 | invalid version '0'
          /v1/models/imdb-sentiment/labels/nope:predict  | 404 | has no label 'nope'
          /v1/models/imdb-sentiment:classify             | 404 | this server implements :predict
          /v1/models/..%2Fetc:predict                    | 404 | no such endpoint
          /v1/models/.hidden:predict                     | 400 | invalid model name
          /v2/models/nope/infer                          | 404 | model 'nope' is not served here
          /v2/models/imdb-sentiment/versions/x/infer     | 400 | invalid version
          /nowhere                                       | 404 | Endpoint POST /nowhere not found
          """)
  void unknownTargetsAreRefused(String path, int status, String error) {
    String body =
        path.startsWith("/v2/")
            ? "{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a\"]}]}"
            : "{\"instances\": [\"a\"]}";
    Reply r = post(app, path, body);
    expect(r, status, error);
    expectLoggedOnce(r, status);
  }

  @Test
  void emptyBodyIsRefused() {
    expect(post(app, PREDICT, ""), 400, "the request body is empty");
  }

  @Test
  void tooManyRowsAreRefused() {
    String rows = "\"a\",".repeat(50) + "\"a\"";
    expect(
        post(app, PREDICT, "{\"instances\": [" + rows + "]}"),
        400,
        "too many rows: 51 (the limit is 50)");
  }

  @Test
  void overlongTextIsRefused() {
    String text = "x".repeat(2001);
    expect(
        post(app, PREDICT, "{\"instances\": [\"" + text + "\"]}"),
        400,
        "has 2001 characters (the limit is 2000)");
  }

  @Test
  void overlargeBodyIsRefused() {
    String text = "word ".repeat(20_000);
    Reply r = post(app, PREDICT, "{\"instances\": [\"" + text + "\"]}");
    expect(r, 413, "over the limit of 65536");
  }

  @Test
  void anOverlargeChunkedBodyIsRefused() throws Exception {
    // No Content-Length to check up front: the limit holds while the chunks are read.
    byte[] body = ("{\"instances\": [\"" + "word ".repeat(20_000) + "\"]}").getBytes(UTF_8);
    try (Socket socket = new Socket("127.0.0.1", app.port())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST " + PREDICT + " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
              .getBytes(UTF_8));
      for (int at = 0; at < body.length; at += 8192) {
        int n = Math.min(8192, body.length - at);
        out.write((Integer.toHexString(n) + "\r\n").getBytes(UTF_8));
        out.write(body, at, n);
        out.write("\r\n".getBytes(UTF_8));
      }
      out.write("0\r\n\r\n".getBytes(UTF_8));
      out.flush();
      String answer = new String(socket.getInputStream().readAllBytes(), UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 413").contains("{\"error\":");
    }
  }

  @Test
  void aClientThatWritesItsWholeBodyBeforeReadingGetsThe413() throws Exception {
    // Python's urllib and many simple clients send everything, then read: the server must not
    // close the socket under their writes (a broken pipe) but answer once the body is in.
    byte[] body = ("{\"instances\": [\"" + "x".repeat(1_000_000) + "\"]}").getBytes(UTF_8);
    AtomicReference<IOException> writeFailed = new AtomicReference<>();
    try (Socket socket = new Socket("127.0.0.1", app.port())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST "
                  + PREDICT
                  + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + body.length
                  + "\r\n\r\n")
              .getBytes(UTF_8));
      Thread writer =
          new Thread(
              () -> {
                try {
                  out.write(body); // the whole megabyte, without reading anything first
                  out.flush();
                } catch (IOException e) {
                  writeFailed.set(e);
                }
              });
      writer.start();
      writer.join(20_000);
      assertThat(writer.isAlive()).as("the server read the body instead of stalling").isFalse();
      assertThat(writeFailed.get()).as("no broken pipe while writing").isNull();
      String answer = new String(socket.getInputStream().readAllBytes(), UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 413");
      assertThat(answer)
          .contains("over the limit of 65536")
          .containsIgnoringCase("connection: close");
    }
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource({
    "POST, /no/such/endpoint, 404",
    "POST, /v1/models/imdb-sentiment:classify, 404",
    "PUT, /v1/models/imdb-sentiment:predict, 404",
  })
  void aRefusalBeforeTheBodyKeepsTheConnectionForTheNextRequest(
      String method, String path, int status) throws Exception {
    String next = nextRequestAfterRefusal(app, method + " " + path, "", "");
    assertThat(next).startsWith("HTTP/1.1 " + status).contains("HTTP/1.1 200 OK");
  }

  /**
   * Sends a refused request's head, waits for a refusal that does not wait for the body, then the
   * body and a predict on the same connection; returns everything the server answered. Left unread,
   * the body costs the connection: Jetty shuts it after the refusal and the keep-alive client's
   * next request gets no reply.
   */
  static String nextRequestAfterRefusal(
      App app, String requestLine, String refusedHeaders, String nextHeaders)
      throws IOException, InterruptedException {
    byte[] body = "{\"instances\": [\"great movie\"]}".getBytes(UTF_8);
    try (Socket socket = new Socket("127.0.0.1", app.port())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      String head = "Host: localhost\r\nContent-Type: application/json\r\n";
      out.write((requestLine + " HTTP/1.1\r\n" + head + refusedHeaders).getBytes(UTF_8));
      out.write(("Content-Length: " + body.length + "\r\n\r\n").getBytes(UTF_8));
      out.flush();
      Thread.sleep(300); // a server that answers without the body has answered by now
      out.write(body);
      out.write(
          ("POST " + PREDICT + " HTTP/1.1\r\n" + head + nextHeaders + "Connection: close\r\n")
              .getBytes(UTF_8));
      out.write(("Content-Length: " + body.length + "\r\n\r\n").getBytes(UTF_8));
      out.write(body);
      out.flush();
      return new String(socket.getInputStream().readAllBytes(), UTF_8);
    }
  }

  @Test
  void wrongMethodIsRefused() {
    Reply r =
        TestSupport.send(
            HttpRequest.newBuilder(TestSupport.uri(app, "/v1/models/imdb-sentiment:predict"))
                .GET()
                .build());
    expect(r, 400, "predict needs POST");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"inputs": "a"}                                                                           | 400 | 'inputs' must be a list
          {"inputs": []}                                                                            | 400 | 'inputs' is empty
          {"inputs": [{"name": "text", "shape": [1, 1], "datatype": "FP32", "data": [1.0]}]}        | 400 | must hold strings (DT_STRING, V2 BYTES) but the request sent numbers (DT_FLOAT, V2 FP32)
          {"inputs": [{"name": "text", "shape": [1, 1], "datatype": "STRING", "data": ["a"]}]}      | 400 | unknown datatype 'STRING'
          {"inputs": [{"name": "text", "shape": [2, 1], "datatype": "BYTES", "data": ["a"]}]}       | 400 | needs 2 values but data has 1
          {"inputs": [{"name": "text", "shape": [-1, 1], "datatype": "BYTES", "data": ["a"]}]}      | 400 | shape must hold whole numbers >= 0
          {"inputs": [{"name": "text", "datatype": "BYTES", "data": ["a"]}]}                        | 400 | needs a shape list
          {"inputs": [{"name": "text", "shape": [1, 1], "datatype": "BYTES"}]}                      | 400 | has no data
          {"inputs": [{"name": "nope", "shape": [1, 1], "datatype": "BYTES", "data": ["a"]}]}       | 400 | has no input 'nope'
          {"inputs": [{"name": "text", "shape": [1, 1], "datatype": "BYTES", "data": [3]}]}         | 400 | must hold a string
          {"inputs": [{"name": "text", "shape": [1, 1], "datatype": "BYTES", "data": ["a"]}], "outputs": [{"name": "x"}]} | 400 | has no output 'x'
          {"inputs": [{"name": "text", "shape": [0, 1], "datatype": "BYTES", "data": []}]}          | 400 | has no rows
          """)
  void v2InferRejects(String body, int status, String error) {
    expect(post(app, INFER, body), status, error);
  }

  @Test
  void readinessAndMetadataOfUnknownModels() {
    expect(get(app, "/v1/models/nope"), 404, "not served here");
    expect(get(app, "/v1/models/nope/metadata"), 404, "not served here");
    expect(get(app, "/v2/models/nope"), 404, "not served here");
  }
}
