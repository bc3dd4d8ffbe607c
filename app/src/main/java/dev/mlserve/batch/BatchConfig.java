package dev.mlserve.batch;

import dev.mlserve.config.ConfigException;
import dev.mlserve.config.Identifiers;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.store.S3Location;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Everything the batch job reads from its environment (and the command line options that stand for
 * the same names), parsed and validated once; every problem is reported at once. The model store,
 * cache, version policy, text limit, low-confidence band and log format are the service's own
 * settings ({@link ServerConfig}), read from the same variables.
 *
 * @param input {@code BATCH_INPUT_URI}: a folder {@code s3://bucket/batch/input/<job>/} or one
 *     object
 * @param output {@code BATCH_OUTPUT_URI}: the job's output folder {@code
 *     s3://bucket/batch/output/<job>/}
 * @param jobId {@code BATCH_JOB_ID}; default: the output folder's last segment
 * @param format {@code BATCH_INPUT_FORMAT} ({@code jsonl}, {@code csv}, {@code text}); empty = by
 *     file extension
 * @param textField {@code BATCH_TEXT_FIELD}: the field (JSON) or column (CSV) holding the text
 * @param idField {@code BATCH_ID_FIELD}: the field or column holding the row's id
 * @param byteRange {@code BATCH_BYTE_RANGE}: {@code start-end} (end exclusive) of the input object
 *     this part owns
 * @param part {@code BATCH_PART}: the part's name in the plan
 * @param model {@code BATCH_MODEL}: the model to use; empty = the only model in the store
 * @param modelVersion {@code BATCH_MODEL_VERSION}
 * @param modelLabel {@code BATCH_MODEL_LABEL}: a label from the model's serving.json
 * @param signature {@code BATCH_SIGNATURE}
 * @param labels {@code BATCH_LABELS}: class names for score &lt; 0.5 and &ge; 0.5 (or one per
 *     column of a multi-class output)
 * @param chunkRows {@code BATCH_CHUNK_ROWS}: rows per TensorFlow call
 * @param scoringThreads {@code BATCH_SCORING_THREADS}: TensorFlow calls in flight at once (default:
 *     the CPUs the JVM sees, as in-process throughput peaks with one calling thread per core)
 * @param splitBytes {@code BATCH_SPLIT_BYTES}: input files larger than this are split into byte
 *     ranges of about this size, one task each
 * @param csvMultiline {@code BATCH_CSV_MULTILINE}: CSV quoted fields may hold line breaks; such
 *     files are read whole by one task (a byte range cannot tell whether it starts inside a quote)
 * @param maxListedFailures {@code BATCH_MAX_LISTED_FAILURES}: failed rows named in the manifest
 * @param snsTopicArn {@code BATCH_SNS_TOPIC_ARN}: where the merge step publishes the job's summary
 * @param progressInterval {@code BATCH_PROGRESS_SECONDS}
 * @param server the service's settings the job shares
 */
public record BatchConfig(
    Optional<S3Location> input,
    Optional<S3Location> output,
    String jobId,
    Optional<InputFormat> format,
    String textField,
    String idField,
    Optional<ByteRange> byteRange,
    Optional<String> part,
    Optional<String> model,
    OptionalLong modelVersion,
    Optional<String> modelLabel,
    String signature,
    List<String> labels,
    int chunkRows,
    int scoringThreads,
    long splitBytes,
    boolean csvMultiline,
    int maxListedFailures,
    Optional<String> snsTopicArn,
    Duration progressInterval,
    ServerConfig server) {

  /** What a subcommand cannot do without. */
  public enum Need {
    INPUT,
    OUTPUT
  }

  /** Reads and validates; collects every problem (the service's and the job's) into one message. */
  public static BatchConfig fromEnvironment(Map<String, String> env, Set<Need> needs) {
    List<String> problems = new ArrayList<>();
    ServerConfig server = null;
    try {
      server = ServerConfig.fromEnvironment(env);
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    Optional<S3Location> input =
        location(env, "BATCH_INPUT_URI", needs.contains(Need.INPUT), problems);
    Optional<S3Location> output =
        location(env, "BATCH_OUTPUT_URI", needs.contains(Need.OUTPUT), problems);
    String job = value(env, "BATCH_JOB_ID").orElse(null);
    if (job == null && output.isPresent()) {
      String p = output.get().prefix();
      job = p.substring(p.lastIndexOf('/') + 1);
    }
    if (job == null) {
      job = "job";
    }
    if (!Identifiers.isName(job)) {
      problems.add(
          "the job id (BATCH_JOB_ID, else the last segment of BATCH_OUTPUT_URI) must use letters,"
              + " digits, '.', '_', '-' (max 64), got '"
              + job
              + "'");
    }
    Optional<InputFormat> format = Optional.empty();
    Optional<String> f = value(env, "BATCH_INPUT_FORMAT");
    if (f.isPresent() && !f.get().equalsIgnoreCase("auto")) {
      format = InputFormat.named(f.get());
      if (format.isEmpty()) {
        problems.add("BATCH_INPUT_FORMAT must be auto, jsonl, csv or text, got '" + f.get() + "'");
      }
    }
    Optional<ByteRange> range = Optional.empty();
    Optional<String> r = value(env, "BATCH_BYTE_RANGE");
    if (r.isPresent()) {
      try {
        range = Optional.of(ByteRange.parse(r.get()));
      } catch (IllegalArgumentException e) {
        problems.add("BATCH_BYTE_RANGE: " + e.getMessage());
      }
    }
    Optional<String> part = value(env, "BATCH_PART");
    part.ifPresent(
        p -> {
          if (!Identifiers.isName(p)) {
            problems.add("BATCH_PART must be a plain name, got '" + p + "'");
          }
        });
    Optional<String> model = value(env, "BATCH_MODEL");
    model.ifPresent(
        m -> {
          if (!Identifiers.isName(m)) {
            problems.add("BATCH_MODEL is not a valid model name: '" + m + "'");
          }
        });
    OptionalLong version = OptionalLong.empty();
    Optional<String> v = value(env, "BATCH_MODEL_VERSION");
    if (v.isPresent()) {
      version = Identifiers.parseVersion(v.get());
      if (version.isEmpty()) {
        problems.add("BATCH_MODEL_VERSION must be a positive whole number, got '" + v.get() + "'");
      }
    }
    Optional<String> label = value(env, "BATCH_MODEL_LABEL");
    label.ifPresent(
        l -> {
          if (!Identifiers.isName(l)) {
            problems.add("BATCH_MODEL_LABEL is not a valid label: '" + l + "'");
          }
        });
    if (version.isPresent() && label.isPresent()) {
      problems.add("set BATCH_MODEL_VERSION or BATCH_MODEL_LABEL, not both");
    }
    String signature = value(env, "BATCH_SIGNATURE").orElse("serving_default");
    List<String> labels =
        Arrays.stream(value(env, "BATCH_LABELS").orElse("negative,positive").split(","))
            .map(String::trim)
            .toList();
    if (labels.size() < 2 || labels.stream().anyMatch(String::isEmpty)) {
      problems.add("BATCH_LABELS needs at least two non-empty names, like negative,positive");
    }
    int chunk = (int) number(env, "BATCH_CHUNK_ROWS", 512, 1, 65_536, problems);
    int scorers =
        (int)
            number(
                env,
                "BATCH_SCORING_THREADS",
                Runtime.getRuntime().availableProcessors(),
                1,
                256,
                problems);
    long split = number(env, "BATCH_SPLIT_BYTES", 512L << 20, 1, Long.MAX_VALUE, problems);
    boolean multiline = false;
    Optional<String> ml = value(env, "BATCH_CSV_MULTILINE");
    if (ml.isPresent()) {
      Optional<Boolean> b = ServerConfig.flag(ml.get());
      if (b.isEmpty()) {
        problems.add("BATCH_CSV_MULTILINE must be true or false, got '" + ml.get() + "'");
      }
      multiline = b.orElse(false);
    }
    int listed = (int) number(env, "BATCH_MAX_LISTED_FAILURES", 100, 0, 10_000, problems);
    Optional<String> topic = value(env, "BATCH_SNS_TOPIC_ARN");
    topic.ifPresent(
        t -> {
          if (!t.matches("arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}")) {
            problems.add("BATCH_SNS_TOPIC_ARN must be an SNS topic ARN, got '" + t + "'");
          }
        });
    long progress = number(env, "BATCH_PROGRESS_SECONDS", 10, 1, 3600, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new BatchConfig(
        input,
        output,
        job,
        format,
        value(env, "BATCH_TEXT_FIELD").orElse("text"),
        value(env, "BATCH_ID_FIELD").orElse("id"),
        range,
        part,
        model,
        version,
        label,
        signature,
        labels,
        chunk,
        scorers,
        split,
        multiline,
        listed,
        topic,
        Duration.ofSeconds(progress),
        server);
  }

  /**
   * Whether files of {@code format} are read as multi-line CSV records: then whole, never split
   * into byte ranges (a range cannot tell whether it starts inside a quote).
   */
  public boolean csvRecords(InputFormat format) {
    return format == InputFormat.CSV && csvMultiline;
  }

  /** The output folder (required by every subcommand that gets here). */
  public S3Location out() {
    return output.orElseThrow();
  }

  /** A copy pinned to one part of a plan (what a scoring task receives). */
  public BatchConfig forPart(PlanItem item) {
    return new BatchConfig(
        Optional.of(S3Location.parse(item.inputUri())),
        output,
        jobId,
        Optional.of(InputFormat.named(item.format()).orElseThrow()),
        textField,
        idField,
        Optional.of(ByteRange.parse(item.byteRange())),
        Optional.of(item.part()),
        Optional.of(item.model()),
        OptionalLong.of(item.modelVersion()),
        modelLabel,
        signature,
        labels,
        chunkRows,
        scoringThreads,
        splitBytes,
        csvMultiline,
        maxListedFailures,
        snsTopicArn,
        progressInterval,
        server);
  }

  private static Optional<String> value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }

  private static Optional<S3Location> location(
      Map<String, String> env, String name, boolean required, List<String> problems) {
    Optional<String> v = value(env, name);
    if (v.isEmpty()) {
      if (required) {
        problems.add(name + " is required (s3://bucket/prefix)");
      }
      return Optional.empty();
    }
    try {
      S3Location l = S3Location.parse(v.get());
      if (v.get().contains("..")) {
        throw new IllegalArgumentException("'..' is not allowed in " + v.get());
      }
      return Optional.of(l);
    } catch (IllegalArgumentException e) {
      problems.add(name + ": " + e.getMessage());
      return Optional.empty();
    }
  }

  private static long number(
      Map<String, String> env, String name, long fallback, long min, long max, List<String> p) {
    Optional<String> v = value(env, name);
    if (v.isEmpty()) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v.get().toLowerCase(Locale.ROOT).replace("_", ""));
      if (n < min || n > max) {
        p.add(name + " must be between " + min + " and " + max + ", got " + n);
        return fallback;
      }
      return n;
    } catch (NumberFormatException e) {
      p.add(name + " must be a whole number, got '" + v.get() + "'");
      return fallback;
    }
  }
}
