package dev.mlserve.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserve.TestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch job end to end on a real S3 API (S3Proxy) with the real model and TensorFlow: the three
 * input formats scored to the golden scores, bad rows reported per row, reruns, byte-range splits
 * and configuration errors.
 */
class BatchJobTest {
  @TempDir static Path tmp;
  static BatchFixture s3;
  static JsonNode golden;
  static double tolerance;

  @BeforeAll
  static void start() throws Exception {
    s3 = new BatchFixture(tmp);
    golden = BatchFixture.golden();
    tolerance = golden.path("tolerance").asDouble(1e-5);
  }

  @AfterAll
  static void stop() {
    s3.close();
  }

  private static Map<String, Double> goldenScores() {
    Map<String, Double> scores = new HashMap<>();
    for (JsonNode c : golden.get("cases")) {
      scores.put(c.get("text").asText(), c.get("score").asDouble());
    }
    return scores;
  }

  /** Golden cases a text line or a CSV record can carry (one line, not blank). */
  private static List<JsonNode> oneLineCases() {
    List<JsonNode> cases = new ArrayList<>();
    for (JsonNode c : golden.get("cases")) {
      String t = c.get("text").asText();
      if (!t.contains("\n") && !t.contains("\r") && !t.isBlank()) {
        cases.add(c);
      }
    }
    return cases;
  }

  private static void assertScored(JsonNode row, double expected) {
    double score = row.get("score").asDouble();
    assertThat(score).as(row.toString()).isCloseTo(expected, within(tolerance));
    assertThat(row.get("label").asText()).isEqualTo(score >= 0.5 ? "positive" : "negative");
    assertThat(row.get("low_confidence").asBoolean()).isEqualTo(score >= 0.4 && score <= 0.6);
  }

  @Test
  void scoresJsonLinesCsvAndPlainTextToTheGoldenScores() throws Exception {
    String job = "formats";
    StringBuilder jsonl = new StringBuilder();
    int i = 0;
    for (JsonNode c : golden.get("cases")) {
      ObjectNode o = TestSupport.JSON.createObjectNode();
      o.put("id", "j" + i++);
      o.put("text", c.get("text").asText());
      o.put("source", "golden");
      o.putObject("meta").put("case", c.get("name").asText());
      jsonl.append(o).append('\n');
    }
    StringBuilder csv = new StringBuilder("review_id,lang,body\r\n");
    StringBuilder text = new StringBuilder();
    i = 0;
    for (JsonNode c : oneLineCases()) {
      String t = c.get("text").asText();
      csv.append("c").append(i++).append(",en,\"").append(t.replace("\"", "\"\"")).append("\"\r\n");
      text.append(t).append('\n');
    }
    s3.put("batch/input/formats/reviews.jsonl", jsonl.toString());
    s3.put("batch/input/formats/reviews.csv", csv.toString());
    s3.put("batch/input/formats/sub/reviews.txt", text.toString());
    s3.put("batch/input/formats/_READY", "");

    // The CSV names its own text and id columns; options stand for the variables.
    int code = s3.run(s3.env(job, Map.of()), "run", "--text-field", "text", "--id-field", "id");
    assertThat(code).as(s3.err).isEqualTo(1); // the CSV has no 'text' column: the job fails
    assertThat(s3.log).contains("has no text column 'text'");
    assertThat(s3.exists("batch/output/formats/_SUCCESS")).isFalse();

    // Rename the CSV's columns to the defaults and run again.
    s3.put(
        "batch/input/formats/reviews.csv",
        csv.toString().replaceFirst("review_id,lang,body", "id,lang,text"));
    code = s3.run(s3.env(job, Map.of()), "run");
    assertThat(code).as(s3.err).isZero();
    assertThat(s3.out).contains("job formats");

    Map<String, Double> expected = goldenScores();
    List<JsonNode> fromJson = s3.jsonLines("batch/output/formats/reviews.jsonl.out");
    assertThat(fromJson).hasSize(golden.get("cases").size());
    for (int r = 0; r < fromJson.size(); r++) {
      JsonNode row = fromJson.get(r);
      assertThat(row.get("id").asText()).isEqualTo("j" + r);
      assertThat(row.get("source").asText()).isEqualTo("golden"); // input fields carried through
      assertThat(row.at("/meta/case").asText())
          .isEqualTo(golden.get("cases").get(r).get("name").asText());
      assertScored(row, expected.get(row.get("text").asText()));
    }
    List<JsonNode> fromCsv = s3.jsonLines("batch/output/formats/reviews.csv.out");
    assertThat(fromCsv).hasSize(oneLineCases().size());
    for (int r = 0; r < fromCsv.size(); r++) {
      JsonNode row = fromCsv.get(r);
      assertThat(row.get("id").asText()).isEqualTo("c" + r);
      assertThat(row.get("lang").asText()).isEqualTo("en");
      assertScored(row, expected.get(row.get("text").asText()));
    }
    List<JsonNode> fromText = s3.jsonLines("batch/output/formats/sub/reviews.txt.out");
    assertThat(fromText).hasSize(oneLineCases().size());
    long offset = 0;
    for (JsonNode row : fromText) {
      // plain text rows get "<file>:<byte offset>" ids, stable however the file is split
      assertThat(row.get("id").asText()).isEqualTo("reviews.txt:" + offset);
      offset += row.get("text").asText().getBytes(StandardCharsets.UTF_8).length + 1;
      assertScored(row, expected.get(row.get("text").asText()));
    }

    long flagged =
        fromJson.stream().filter(r -> r.get("low_confidence").asBoolean()).count()
            + fromCsv.stream().filter(r -> r.get("low_confidence").asBoolean()).count()
            + fromText.stream().filter(r -> r.get("low_confidence").asBoolean()).count();
    List<JsonNode> low = s3.jsonLines("batch/output/formats/low-confidence.jsonl");
    assertThat(low).hasSize((int) flagged).allMatch(r -> r.get("low_confidence").asBoolean());
    assertThat(flagged).isGreaterThan(5);

    JsonNode m = s3.manifest(job);
    int rows = fromJson.size() + fromCsv.size() + fromText.size();
    assertThat(m.get("status").asText()).isEqualTo("succeeded");
    assertThat(m.get("outcome").asText()).isEqualTo("low_confidence");
    assertThat(m.at("/model/name").asText()).isEqualTo("imdb-sentiment");
    assertThat(m.at("/model/version").asLong()).isEqualTo(1);
    assertThat(m.at("/counts/files").asInt()).isEqualTo(3); // _READY is a marker, not input
    assertThat(m.at("/counts/rows").asLong()).isEqualTo(rows);
    assertThat(m.at("/counts/scored").asLong()).isEqualTo(rows);
    assertThat(m.at("/counts/failed_rows").asLong()).isZero();
    assertThat(m.at("/counts/low_confidence_rows").asLong()).isEqualTo(flagged);
    assertThat(m.at("/counts/by_band/within").asLong()).isEqualTo(flagged);
    assertThat(
            m.at("/counts/by_band/below").asLong()
                + m.at("/counts/by_band/within").asLong()
                + m.at("/counts/by_band/above").asLong())
        .isEqualTo(rows);
    assertThat(
            m.at("/counts/by_label/positive").asLong() + m.at("/counts/by_label/negative").asLong())
        .isEqualTo(rows);
    assertThat(m.get("low_confidence_band").get(0).asDouble()).isEqualTo(0.4);
    assertThat(m.get("low_confidence_samples").size()).isEqualTo(10);
    assertThat(m.at("/outputs/low_confidence").asText())
        .isEqualTo("s3://batch-data/batch/output/formats/low-confidence.jsonl");
    assertThat(m.at("/timings/rows_per_second").asDouble()).isPositive();
  }

  @Test
  void modelsFromS3AndTheServingJsonBandAreUsedLikeTheService() throws Exception {
    // The models come from the bucket through the service's S3ModelSource and cache, and the
    // model's serving.json band replaces LOW_CONFIDENCE_BAND, as in the service.
    s3.s3.uploadTree(BatchFixture.BUCKET, "models/imdb-sentiment/1", TestSupport.demoVersion());
    s3.put(
        "models/imdb-sentiment/serving.json",
        "{\"labels\": {\"stable\": 1}, \"low_confidence_band\": [0.2, 0.3]}");
    s3.put("batch/input/s3models/a.txt", "awful film\ngreat movie\n");
    Map<String, String> env =
        new HashMap<>(
            s3.env(
                "s3models",
                Map.of(
                    "MODEL_BASE_PATH",
                    "s3://" + BatchFixture.BUCKET + "/models",
                    "BATCH_MODEL_LABEL",
                    "stable")));
    assertThat(s3.run(env, "run")).as(s3.err).isZero();
    List<JsonNode> rows = s3.jsonLines("batch/output/s3models/a.txt.out");
    assertThat(rows.get(0).get("score").asDouble()).isCloseTo(0.20586036, within(tolerance));
    assertThat(rows.get(0).get("low_confidence").asBoolean()).isTrue(); // inside [0.2, 0.3]
    assertThat(rows.get(1).get("low_confidence").asBoolean()).isFalse();
    JsonNode m = s3.manifest("s3models");
    assertThat(m.at("/model/label").asText()).isEqualTo("stable");
    assertThat(m.at("/model/store").asText()).isEqualTo("s3://batch-data/models");
    assertThat(m.get("low_confidence_band").get(1).asDouble()).isEqualTo(0.3);

    // An unknown label fails the job before anything is written: the previous run's outputs and
    // the manifest describing them stay as they were.
    env.put("BATCH_MODEL_LABEL", "canary");
    assertThat(s3.run(env, "run")).isEqualTo(1);
    assertThat(s3.log).contains("label 'canary' is not in its serving.json");
    assertThat(s3.manifest("s3models").get("timings")).isEqualTo(m.get("timings"));
  }

  @Test
  void badRowsAreReportedPerRowAndNeverStopTheJob() throws Exception {
    String job = "bad";
    String jsonl =
        String.join(
            "\n",
            "{\"id\": 1, \"text\": \"great movie\"}",
            "this is not json",
            "[\"an\", \"array\"]",
            "{\"id\": 4, \"body\": \"no text field\"}",
            "{\"id\": 5, \"text\": 42}",
            "{\"id\": 6, \"text\": \"" + "long ".repeat(30) + "\"}",
            "",
            "   ",
            "{\"id\": 9, \"text\": \"awful film\"}",
            "{\"id\": 10, \"text\": \"unterminated",
            "");
    s3.put("batch/input/bad/rows.jsonl", jsonl);
    byte[] latin1 = "caf\u00e9 ok\n".getBytes(StandardCharsets.ISO_8859_1); // not UTF-8
    byte[] good = "great movie\n".getBytes(StandardCharsets.UTF_8);
    byte[] text = new byte[latin1.length + good.length];
    System.arraycopy(good, 0, text, 0, good.length);
    System.arraycopy(latin1, 0, text, good.length, latin1.length);
    s3.put("batch/input/bad/lines.txt", text);
    s3.put(
        "batch/input/bad/table.csv", "id,text\nr1,great movie\nr2,too,many,columns\nr3,\"ok\"\n");

    int code = s3.run(s3.env(job, Map.of("MAX_TEXT_CHARS", "100")), "run");
    assertThat(code).as(s3.err).isZero();
    JsonNode m = s3.manifest(job);
    assertThat(m.get("outcome").asText()).isEqualTo("rows_failed");
    assertThat(m.at("/counts/scored").asLong()).isEqualTo(2 + 1 + 2);
    assertThat(m.at("/counts/failed_rows").asLong()).isEqualTo(6 + 1 + 1);
    assertThat(m.at("/counts/rows").asLong()).isEqualTo(13); // blank lines are not rows
    JsonNode reasons = m.at("/counts/failure_reasons");
    assertThat(reasons.get(RowFailure.NOT_JSON).asLong()).isEqualTo(2);
    assertThat(reasons.get(RowFailure.NOT_OBJECT).asLong()).isEqualTo(1);
    assertThat(reasons.get(RowFailure.NO_TEXT).asLong()).isEqualTo(1);
    assertThat(reasons.get(RowFailure.TEXT_NOT_STRING).asLong()).isEqualTo(1);
    assertThat(reasons.get(RowFailure.TOO_LONG).asLong()).isEqualTo(1);
    assertThat(reasons.get(RowFailure.NOT_UTF8).asLong()).isEqualTo(1);
    assertThat(reasons.get(RowFailure.COLUMNS).asLong()).isEqualTo(1);

    List<JsonNode> errors = s3.jsonLines("batch/output/bad/errors.jsonl");
    assertThat(errors).hasSize(8);
    JsonNode noText =
        errors.stream().filter(e -> e.path("id").asText().equals("4")).findFirst().orElseThrow();
    assertThat(noText.get("file").asText()).isEqualTo("rows.jsonl");
    assertThat(noText.get("reason").asText()).isEqualTo(RowFailure.NO_TEXT);
    assertThat(noText.get("offset").asLong()).isEqualTo(jsonl.indexOf("{\"id\": 4"));
    assertThat(m.get("failures")).hasSize(8);
    assertThat(m.get("failures_truncated").asBoolean()).isFalse();

    List<JsonNode> scored = s3.jsonLines("batch/output/bad/rows.jsonl.out");
    assertThat(scored).extracting(r -> r.get("id").asInt()).containsExactly(1, 9);

    // A bounded list: the manifest names at most BATCH_MAX_LISTED_FAILURES failures.
    code =
        s3.run(
            s3.env(job, Map.of("MAX_TEXT_CHARS", "100", "BATCH_MAX_LISTED_FAILURES", "3")), "run");
    assertThat(code).isZero();
    m = s3.manifest(job);
    assertThat(m.get("failures")).hasSize(3);
    assertThat(m.get("failures_truncated").asBoolean()).isTrue();
    assertThat(m.at("/counts/failed_rows").asLong()).isEqualTo(8);
  }

  @Test
  void quotedLineBreaksInCsvNeedMultilineModeWhichReadsTheFileWhole() throws Exception {
    // Every golden case, quoted, CRLF line ends: three texts hold line breaks or quotes.
    StringBuilder csv = new StringBuilder("id,text,lang\r\n");
    List<JsonNode> cases = new ArrayList<>();
    golden.get("cases").forEach(cases::add);
    for (int i = 0; i < cases.size(); i++) {
      String t = cases.get(i).get("text").asText();
      csv.append("m").append(i).append(",\"").append(t.replace("\"", "\"\"")).append("\",en\r\n");
    }
    s3.put("batch/input/multiline/reviews.csv", csv.toString());

    // Multi-line mode: every record whole, the file in one part however small the split size.
    Map<String, String> env =
        s3.env("multiline", Map.of("BATCH_SPLIT_BYTES", "512", "BATCH_CSV_MULTILINE", "true"));
    assertThat(s3.run(env, "run")).as(s3.err).isZero();
    JsonNode m = s3.manifest("multiline");
    assertThat(m.at("/counts/parts").asInt()).isEqualTo(1);
    assertThat(m.at("/counts/rows").asLong()).isEqualTo(cases.size());
    assertThat(m.at("/counts/failed_rows").asLong()).isZero();
    List<JsonNode> rows = s3.jsonLines("batch/output/multiline/reviews.csv.out");
    assertThat(rows).hasSize(cases.size());
    for (int i = 0; i < rows.size(); i++) {
      JsonNode row = rows.get(i);
      assertThat(row.get("id").asText()).isEqualTo("m" + i);
      assertThat(row.get("text").asText()).isEqualTo(cases.get(i).get("text").asText());
      assertThat(row.get("lang").asText()).isEqualTo("en");
      assertScored(row, cases.get(i).get("score").asDouble());
    }

    // Line mode (the default, which can split): each physical line of a record with a line break
    // is a failed row, named for what it is; every other record is scored.
    assertThat(s3.run(s3.env("multiline", Map.of()), "run")).as(s3.err).isZero();
    m = s3.manifest("multiline");
    // whitespace_only (2 lines) and newlines_tabs (3 lines: its middle line has no quote at all)
    assertThat(m.at("/counts/scored").asLong()).isEqualTo(cases.size() - 2);
    assertThat(m.at("/counts/failure_reasons/" + RowFailure.BAD_CSV).asLong()).isEqualTo(4);
    assertThat(m.at("/counts/failure_reasons/" + RowFailure.COLUMNS).asLong()).isEqualTo(1);
    assertThat(s3.jsonLines("batch/output/multiline/errors.jsonl"))
        .filteredOn(e -> e.get("reason").asText().equals(RowFailure.BAD_CSV))
        .allSatisfy(e -> assertThat(e.get("detail").asText()).contains("BATCH_CSV_MULTILINE=true"));

    // A multi-line CSV is never cut: a task handed a range inside it refuses (exit 1), no manifest.
    int code =
        s3.run(
            s3.env("multiline-range", Map.of("BATCH_CSV_MULTILINE", "true")),
            "score",
            "--input",
            "s3://" + BatchFixture.BUCKET + "/batch/input/multiline/reviews.csv",
            "--byte-range",
            "100-" + csv.toString().getBytes(StandardCharsets.UTF_8).length,
            "--part",
            "00001");
    assertThat(code).isEqualTo(1);
    assertThat(s3.log).contains("is read whole");
  }

  @Test
  void aRerunGivesTheSameOutputsAndReplacesTheManifest() throws Exception {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      text.append(golden.get("cases").get(i % 20).get("text").asText())
          .append(" #")
          .append(i)
          .append('\n');
    }
    s3.put("batch/input/rerun/a.txt", text.toString());
    Map<String, String> env = s3.env("rerun", Map.of("BATCH_SPLIT_BYTES", "50000"));
    assertThat(s3.run(env, "run")).as(s3.err).isZero();
    String firstOut = s3.text("batch/output/rerun/a.txt.out");
    JsonNode first = s3.manifest("rerun");
    assertThat(s3.run(env, "run")).as(s3.err).isZero();
    assertThat(s3.text("batch/output/rerun/a.txt.out")).isEqualTo(firstOut);
    JsonNode second = s3.manifest("rerun");
    assertThat(second.get("counts")).isEqualTo(first.get("counts"));
    assertThat(second.at("/counts/rows").asLong()).isEqualTo(2000);
    assertThat(second.at("/timings/finished").asText())
        .isNotEqualTo(first.at("/timings/finished").asText());

    // After the merge, the parts keep only their summaries: their data live in the merged files.
    int parts = second.at("/counts/parts").asInt();
    assertThat(parts).isGreaterThan(1);
    for (int p = 0; p < parts; p++) {
      String folder = String.format("batch/output/rerun/parts/%05d/", p);
      assertThat(s3.exists(folder + "_part.json")).isTrue();
      assertThat(s3.exists(folder + "result.out")).as(folder).isFalse();
      assertThat(s3.exists(folder + "low-confidence.jsonl")).isFalse();
      assertThat(s3.exists(folder + "errors.jsonl")).isFalse();
    }
    // A merge run again (a retried merge task) leaves the merged job as it was.
    String manifestBytes = s3.text("batch/output/rerun/_SUCCESS");
    assertThat(s3.run(env, "merge")).as(s3.err).isZero();
    assertThat(s3.text("batch/output/rerun/_SUCCESS")).isEqualTo(manifestBytes);
    assertThat(s3.text("batch/output/rerun/a.txt.out")).isEqualTo(firstOut);
  }

  @Test
  void byteRangesScoredAsSeparatePartsGiveExactlyTheRowsOfOneUnsplitRun() throws Exception {
    // Lines of many lengths, CRLF, multi-byte characters and blank lines, so that range
    // boundaries fall everywhere: inside a line, on a newline, inside a UTF-8 sequence.
    StringBuilder jsonl = new StringBuilder();
    JsonNode cases = golden.get("cases");
    for (int i = 0; i < 400; i++) {
      ObjectNode o = TestSupport.JSON.createObjectNode();
      o.put("id", i);
      o.put("text", cases.get(i % cases.size()).get("text").asText() + " é漢 " + "x".repeat(i % 37));
      jsonl.append(o).append(i % 7 == 0 ? "\r\n" : "\n");
      if (i % 50 == 0) {
        jsonl.append('\n');
      }
    }
    s3.put("batch/input/whole/r.jsonl", jsonl.toString());
    s3.put("batch/input/split/r.jsonl", jsonl.toString());
    // A row's score can differ in its last float digit with the size of the batch it was scored
    // in (TensorFlow's kernels block by batch size), and the parts cut the batches elsewhere: both
    // runs score one row per call, so that their outputs compare byte for byte. The unsplit run
    // on 4 scoring threads, which finish chunks out of order.
    Map<String, String> small = Map.of("BATCH_CHUNK_ROWS", "1", "BATCH_SCORING_THREADS", "4");
    assertThat(s3.run(s3.env("whole", small), "run")).as(s3.err).isZero();

    // Plan with small ranges, then score each part with its own command, as the state machine's
    // Distributed Map runs one task per item, then merge.
    Map<String, String> env =
        s3.env("split", Map.of("BATCH_SPLIT_BYTES", "9000", "BATCH_CHUNK_ROWS", "1"));
    assertThat(s3.run(env, "plan")).as(s3.err).isZero();
    JsonNode plan = TestSupport.JSON.readTree(s3.text("batch/output/split/_plan.json"));
    assertThat(plan.size()).isGreaterThan(5);
    for (JsonNode item : plan) {
      Map<String, String> partEnv = new HashMap<>(s3.env("split", Map.of("BATCH_CHUNK_ROWS", "1")));
      partEnv.put("BATCH_PART", item.get("part").asText());
      partEnv.put("BATCH_INPUT_URI", item.get("input_uri").asText());
      partEnv.put("BATCH_BYTE_RANGE", item.get("byte_range").asText());
      partEnv.put("BATCH_INPUT_FORMAT", item.get("format").asText());
      partEnv.put("BATCH_MODEL", item.get("model").asText());
      partEnv.put("BATCH_MODEL_VERSION", item.get("model_version").asText());
      assertThat(s3.run(partEnv, "score")).as(s3.err).isZero();
    }
    assertThat(s3.run(env, "merge")).as(s3.err).isZero();

    String whole = s3.text("batch/output/whole/r.jsonl.out");
    String split = s3.text("batch/output/split/r.jsonl.out");
    assertThat(whole.lines().map(l -> l.substring(0, l.indexOf(','))))
        .containsExactlyElementsOf(
            java.util.stream.IntStream.range(0, 400).mapToObj(i -> "{\"id\":" + i).toList());
    assertThat(split).isEqualTo(whole);
    assertThat(s3.manifest("split").at("/counts/parts").asInt()).isEqualTo(plan.size());
  }

  @Test
  void configurationProblemsAreAllReportedWithExitCode2() {
    Map<String, String> env = new HashMap<>();
    env.put("BATCH_OUTPUT_URI", "not-a-uri");
    env.put("BATCH_BYTE_RANGE", "10-2");
    env.put("BATCH_MODEL_VERSION", "latest");
    env.put("BATCH_SNS_TOPIC_ARN", "my-topic");
    env.put("LOW_CONFIDENCE_BAND", "0.7,0.1");
    env.put("BATCH_CSV_MULTILINE", "sometimes"); // yes/no/1/0/on/off are accepted, as elsewhere
    assertThat(s3.run(env, "run")).isEqualTo(2);
    assertThat(s3.err)
        .contains("BATCH_INPUT_URI is required")
        .contains("BATCH_OUTPUT_URI")
        .contains("BATCH_BYTE_RANGE")
        .contains("BATCH_MODEL_VERSION")
        .contains("BATCH_SNS_TOPIC_ARN")
        .contains("BATCH_CSV_MULTILINE must be true or false, got 'sometimes'")
        .contains("LOW_CONFIDENCE_BAND");
    assertThat(s3.run(Map.of(), "merge", "--output", "s3://batch-data/batch/output/nothing/"))
        .isEqualTo(1); // no plan: the job fails, nothing written
    assertThat(s3.log).contains("no plan at s3://batch-data/batch/output/nothing/_plan.json");
  }
}
