package dev.mlserve.drift;

import dev.mlserve.config.Identifiers;
import dev.mlserve.store.LocalModelSource;
import dev.mlserve.store.ModelSource;
import dev.mlserve.store.S3Clients;
import dev.mlserve.store.S3Location;
import dev.mlserve.store.S3ModelSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;

/**
 * {@code drift}: the drift report of one model's captured predictions over a time window, as a job
 * of the service's image (scheduled by EventBridge Scheduler, or run by hand). Exit 0 when the
 * reports are written (violations or not: they go to SNS), 1 when a segment could not be judged or
 * S3 failed, 2 on bad arguments.
 */
@Command(
    name = "drift",
    mixinStandardHelpOptions = true,
    description = {
      "Compares one model's captured inputs and scores in a time window with each version's"
          + " training baseline (assets.extra/baseline.json), writes a report per version/variant to"
          + " S3 and publishes to SNS when a check fails."
    })
public final class DriftCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "Model name.")
  String model;

  @Option(names = "--version", description = "Only this version (default: every version seen).")
  Long version;

  @Option(
      names = "--variant",
      description = "Only this A/B variant (default: every variant seen; '' for none).")
  String variant;

  @Option(
      names = "--window",
      defaultValue = "PT1H",
      description = "ISO-8601 duration of the window, ending at --end (default ${DEFAULT-VALUE}).")
  Duration window;

  @Option(names = "--end", description = "End of the window, ISO-8601 instant (default: now).")
  Instant end;

  @Option(
      names = "--capture",
      defaultValue = "${env:CAPTURE_S3_URI}",
      description = "s3://bucket/prefix of the capture (default $CAPTURE_S3_URI).")
  String capture;

  @Option(
      names = "--models",
      defaultValue = "${env:MODEL_BASE_PATH}",
      description =
          "Folder or s3://bucket/prefix holding <model>/<version>/ (default $MODEL_BASE_PATH).")
  String models;

  @Option(
      names = "--report",
      defaultValue = "${env:DRIFT_REPORT_S3_URI}",
      description = "s3://bucket/prefix the reports go to (default $DRIFT_REPORT_S3_URI).")
  String report;

  @Option(
      names = "--topic",
      defaultValue = "${env:DRIFT_SNS_TOPIC_ARN}",
      description = "SNS topic for violations (default $DRIFT_SNS_TOPIC_ARN; none: only logged).")
  String topic;

  @Option(
      names = "--min-rows",
      defaultValue = "${env:DRIFT_MIN_ROWS:-200}",
      description = "Rows below which a report says not_enough_data (default ${DEFAULT-VALUE}).")
  int minRows;

  @Option(names = "--input-name", description = "Input holding the text (default: the only one).")
  String inputName;

  @Option(
      names = "--output-name",
      description = "Output holding the score (default: the only one).")
  String outputName;

  @Override
  public Integer call() throws Exception {
    if ("json".equals(System.getenv("LOG_FORMAT"))) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    List<String> problems = new ArrayList<>();
    if (!Identifiers.isName(model)) {
      problems.add("--model '" + model + "' is not a model name");
    }
    if (window.isNegative() || window.isZero()) {
      problems.add("--window must be positive, got " + window);
    }
    if (minRows < 1) {
      problems.add("--min-rows must be at least 1");
    }
    S3Location captureAt = s3Uri("--capture / CAPTURE_S3_URI", capture, problems);
    S3Location reportAt = s3Uri("--report / DRIFT_REPORT_S3_URI", report, problems);
    if (models == null || models.isBlank()) {
      problems.add("--models / MODEL_BASE_PATH is required (where the baselines are)");
    }
    if (!problems.isEmpty()) {
      problems.forEach(p -> System.err.println("drift: " + p));
      return 2;
    }
    Instant to = end == null ? Instant.now() : end;
    Path cache = Files.createTempDirectory("drift-models");
    boolean withTopic = topic != null && !topic.isBlank();
    try (S3Client s3 = S3Clients.fromEnvironment();
        SnsClient sns = withTopic ? SnsClient.create() : null) {
      ModelSource source =
          models.startsWith("s3://")
              ? new S3ModelSource(s3, S3Location.parse(models), cache)
              : new LocalModelSource(Path.of(models));
      DriftJob.Settings settings =
          new DriftJob.Settings(
              model,
              Optional.ofNullable(version),
              Optional.ofNullable(variant),
              to.minus(window),
              to,
              captureAt,
              reportAt,
              withTopic ? Optional.of(topic) : Optional.empty(),
              Thresholds.defaults(minRows),
              Optional.ofNullable(inputName),
              Optional.ofNullable(outputName));
      DriftJob.Outcome outcome = new DriftJob(s3, sns, source, settings).run();
      return outcome.failures().isEmpty() ? 0 : 1;
    }
  }

  private static S3Location s3Uri(String what, String uri, List<String> problems) {
    if (uri == null || uri.isBlank()) {
      problems.add(what + " is required");
      return null;
    }
    try {
      return S3Location.parse(uri);
    } catch (IllegalArgumentException e) {
      problems.add(what + ": " + e.getMessage());
      return null;
    }
  }
}
