package dev.mlserve.drift;

import dev.mlserve.store.ModelSource;
import dev.mlserve.store.S3Location;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sns.model.MessageAttributeValue;

/**
 * The drift report of one model over one window: reads the captured predictions, compares every
 * version/variant seen with its version's training baseline, writes a report per segment to S3 and,
 * when any check fails, publishes one message to SNS naming the reports (counts and S3 keys, never
 * data: SNS messages stop at 256 KB).
 *
 * <p>Each report is {@code summary.txt} then {@code report.json}, under {@code <report
 * prefix>/model=M/version=V/variant=X/end=<window end>/}. An S3 PUT is atomic per object, and
 * {@code report.json} is written last: a reader that finds it finds the whole report.
 */
final class DriftJob {
  private static final Logger log = LoggerFactory.getLogger(DriftJob.class);
  private static final DateTimeFormatter END =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** What a run needs besides its clients. */
  record Settings(
      String model,
      Optional<Long> version,
      Optional<String> variant,
      Instant start,
      Instant end,
      S3Location capture,
      S3Location reports,
      Optional<String> topicArn,
      Thresholds thresholds,
      Optional<String> inputName,
      Optional<String> outputName) {}

  /** A run's outcome: the reports written and the segments that could not be judged. */
  record Outcome(List<DriftReport> reports, List<String> reportKeys, List<String> failures) {}

  private final S3Client s3;
  private final SnsClient sns;
  private final ModelSource models;
  private final Settings settings;

  DriftJob(S3Client s3, SnsClient sns, ModelSource models, Settings settings) {
    this.s3 = s3;
    this.sns = sns;
    this.models = models;
    this.settings = settings;
  }

  Outcome run() throws IOException {
    Settings st = settings;
    CaptureReader.Capture capture =
        new CaptureReader(s3, st.capture(), st.inputName(), st.outputName())
            .read(st.model(), st.start(), st.end());
    log.info(
        "drift {}: {} capture files, {} segments, {} skipped lines, window {} to {}",
        st.model(),
        capture.files(),
        capture.segments().size(),
        capture.skippedLines(),
        st.start(),
        st.end());
    List<DriftReport> reports = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (CaptureReader.Segment seg : capture.segments().values()) {
      if (st.version().isPresent() && st.version().get() != seg.version()
          || st.variant().isPresent() && !st.variant().get().equals(seg.variant())) {
        continue;
      }
      Baseline baseline;
      try {
        baseline = baseline(seg.version());
      } catch (IOException e) {
        String why = st.model() + " v" + seg.version() + ": no usable baseline: " + e.getMessage();
        log.error("drift {}", why);
        failures.add(why);
        continue;
      }
      DriftReport r =
          new DriftReport(
              st.model(),
              seg.version(),
              seg.variant(),
              st.start(),
              st.end(),
              models.describe() + "/" + st.model() + "/" + seg.version() + "/" + Baseline.FILE,
              baseline.n(),
              DriftChecks.run(seg.texts(), seg.scores(), baseline, st.thresholds()));
      String key = write(r);
      reports.add(r);
      keys.add(key);
      log.info(
          "drift {} v{} {}: {} -> s3://{}/{}",
          st.model(),
          seg.version(),
          seg.variant(),
          r.status(),
          st.reports().bucket(),
          key);
      System.out.print(r.summary());
    }
    if (reports.isEmpty() && failures.isEmpty()) {
      System.out.println(
          "No captured predictions of "
              + st.model()
              + " between "
              + st.start()
              + " and "
              + st.end()
              + ".");
    }
    publish(reports, keys);
    return new Outcome(reports, keys, failures);
  }

  private Baseline baseline(long version) throws IOException {
    Path dir = models.materialize(settings.model(), version);
    Path file = dir.resolve(Baseline.FILE);
    if (!Files.isRegularFile(file)) {
      throw new IOException(Baseline.FILE + " missing (train with training/train.sh to write it)");
    }
    return Baseline.parse(Files.readAllBytes(file));
  }

  /** Writes summary.txt, then report.json (the completion marker); returns report.json's key. */
  private String write(DriftReport r) throws IOException {
    String folder =
        settings
            .reports()
            .key(
                "model="
                    + r.model()
                    + "/version="
                    + r.version()
                    + "/variant="
                    + (r.variant().isEmpty() ? "_" : r.variant())
                    + "/end="
                    + END.format(r.end())
                    + "/");
    String bucket = settings.reports().bucket();
    s3.putObject(
        b -> b.bucket(bucket).key(folder + "summary.txt").contentType("text/plain; charset=utf-8"),
        RequestBody.fromString(r.summary(), StandardCharsets.UTF_8));
    s3.putObject(
        b -> b.bucket(bucket).key(folder + "report.json").contentType("application/json"),
        RequestBody.fromBytes(r.json()));
    return folder + "report.json";
  }

  /** One message for the whole run when any report has a violation. */
  private void publish(List<DriftReport> reports, List<String> keys) {
    List<String> lines = new ArrayList<>();
    long violations = 0;
    for (int i = 0; i < reports.size(); i++) {
      DriftReport r = reports.get(i);
      if (r.violations() == 0) {
        continue;
      }
      violations += r.violations();
      lines.add(
          r.summary() + "Report: s3://" + settings.reports().bucket() + "/" + keys.get(i) + "\n");
    }
    if (violations == 0) {
      return;
    }
    if (settings.topicArn().isEmpty() || sns == null) {
      log.warn("drift {}: {} violations and no SNS topic to tell", settings.model(), violations);
      return;
    }
    String subject =
        "Drift: "
            + settings.model()
            + ", "
            + violations
            + " failed check"
            + (violations == 1 ? "" : "s");
    sns.publish(
        b ->
            b.topicArn(settings.topicArn().get())
                .subject(subject.length() > 100 ? subject.substring(0, 100) : subject)
                .message(String.join("\n", lines))
                .messageAttributes(
                    Map.of(
                        "model",
                        MessageAttributeValue.builder()
                            .dataType("String")
                            .stringValue(settings.model())
                            .build(),
                        "source",
                        MessageAttributeValue.builder()
                            .dataType("String")
                            .stringValue("drift-report")
                            .build())));
    log.info(
        "drift {}: published {} violations to {}",
        settings.model(),
        violations,
        settings.topicArn().get());
  }
}
