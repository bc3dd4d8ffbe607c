package dev.mlserve.batch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.config.ConfigException;
import dev.mlserve.store.S3Clients;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;

/**
 * {@code batch}: scores files in S3 with the service's model code, no HTTP in the path. Every
 * option stands for an environment variable of the same meaning (container overrides set those); an
 * option wins over its variable. Exit codes: 0 done, 1 the job failed (no manifest), 2 bad
 * configuration (every problem listed).
 */
@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    description = "Score files of texts in S3 (JSON lines, CSV, plain text) with a served model.",
    subcommands = {
      BatchCommand.Run.class,
      BatchCommand.Plan.class,
      BatchCommand.Score.class,
      BatchCommand.Merge.class
    })
public final class BatchCommand implements Callable<Integer> {

  /** The clients a job needs; tests point them at emulators. */
  public interface Clients {
    S3Client s3();

    SnsClient sns();
  }

  private final Map<String, String> env;
  private final Clients clients;

  /** The production command: the process environment and the SDK's default clients. */
  public BatchCommand() {
    this(System.getenv(), null);
  }

  /**
   * @param clients null for the SDK's clients from the environment (built and closed here)
   */
  public BatchCommand(Map<String, String> env, Clients clients) {
    this.env = env;
    this.clients = clients;
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return 2;
  }

  /** Options shared by the subcommands; each maps to its environment variable. */
  static final class Options {
    @Option(names = "--input", description = "BATCH_INPUT_URI: s3://bucket/batch/input/<job>/")
    String input;

    @Option(names = "--output", description = "BATCH_OUTPUT_URI: s3://bucket/batch/output/<job>/")
    String output;

    @Option(names = "--job", description = "BATCH_JOB_ID (default: the output folder's name)")
    String job;

    @Option(names = "--format", description = "BATCH_INPUT_FORMAT: auto, jsonl, csv, text")
    String format;

    @Option(names = "--text-field", description = "BATCH_TEXT_FIELD (default: text)")
    String textField;

    @Option(names = "--id-field", description = "BATCH_ID_FIELD (default: id)")
    String idField;

    @Option(names = "--byte-range", description = "BATCH_BYTE_RANGE: start-end, end exclusive")
    String byteRange;

    @Option(names = "--part", description = "BATCH_PART: the part's name in the plan")
    String part;

    @Option(names = "--model", description = "BATCH_MODEL (default: the only model)")
    String model;

    @Option(names = "--model-version", description = "BATCH_MODEL_VERSION")
    String modelVersion;

    @Option(names = "--model-label", description = "BATCH_MODEL_LABEL (from serving.json)")
    String modelLabel;

    @Option(names = "--signature", description = "BATCH_SIGNATURE (default: serving_default)")
    String signature;

    @Option(names = "--labels", description = "BATCH_LABELS (default: negative,positive)")
    String labels;

    @Option(names = "--chunk-rows", description = "BATCH_CHUNK_ROWS: rows per TensorFlow call")
    String chunkRows;

    @Option(names = "--split-bytes", description = "BATCH_SPLIT_BYTES: split larger files")
    String splitBytes;

    @Option(
        names = "--csv-multiline",
        description = "BATCH_CSV_MULTILINE: CSV quoted fields may hold line breaks (true/false)")
    String csvMultiline;

    @Option(names = "--sns-topic-arn", description = "BATCH_SNS_TOPIC_ARN")
    String snsTopicArn;

    @Option(names = "--model-base-path", description = "MODEL_BASE_PATH")
    String modelBasePath;

    Map<String, String> over(Map<String, String> env) {
      Map<String, String> m = new HashMap<>(env);
      put(m, "BATCH_INPUT_URI", input);
      put(m, "BATCH_OUTPUT_URI", output);
      put(m, "BATCH_JOB_ID", job);
      put(m, "BATCH_INPUT_FORMAT", format);
      put(m, "BATCH_TEXT_FIELD", textField);
      put(m, "BATCH_ID_FIELD", idField);
      put(m, "BATCH_BYTE_RANGE", byteRange);
      put(m, "BATCH_PART", part);
      put(m, "BATCH_MODEL", model);
      put(m, "BATCH_MODEL_VERSION", modelVersion);
      put(m, "BATCH_MODEL_LABEL", modelLabel);
      put(m, "BATCH_SIGNATURE", signature);
      put(m, "BATCH_LABELS", labels);
      put(m, "BATCH_CHUNK_ROWS", chunkRows);
      put(m, "BATCH_SPLIT_BYTES", splitBytes);
      put(m, "BATCH_CSV_MULTILINE", csvMultiline);
      put(m, "BATCH_SNS_TOPIC_ARN", snsTopicArn);
      put(m, "MODEL_BASE_PATH", modelBasePath);
      return m;
    }

    private static void put(Map<String, String> m, String name, String value) {
      if (value != null) {
        m.put(name, value);
      }
    }
  }

  /** One step: reads the configuration, runs, maps failures to exit codes. */
  interface Step {
    Object run(BatchJob job) throws Exception;
  }

  int execute(Options options, Set<BatchConfig.Need> needs, Step step) {
    Map<String, String> merged = options.over(env);
    BatchConfig config;
    try {
      config = BatchConfig.fromEnvironment(merged, needs);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    if (config.server().logFormat().equals("json")
        && System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BatchCommand.class);
    S3Client s3 = null;
    SnsClient[] sns = new SnsClient[1];
    try {
      s3 = clients != null ? clients.s3() : S3Clients.fromEnvironment();
      Supplier<SnsClient> snsSupplier =
          () -> {
            if (sns[0] == null) {
              sns[0] = clients != null ? clients.sns() : SnsClient.create();
            }
            return sns[0];
          };
      Object result = step.run(new BatchJob(config, s3, snsSupplier));
      if (result instanceof JsonNode manifest) {
        System.out.println(Manifest.summaryLine(manifest));
      }
      return 0;
    } catch (Exception e) {
      log.error("batch job {} failed: {}", config.jobId(), e.toString());
      log.debug("failure", e);
      return 1;
    } finally {
      if (clients == null) {
        if (s3 != null) {
          s3.close();
        }
        if (sns[0] != null) {
          sns[0].close();
        }
      }
    }
  }

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = "Plan, score every part and merge, in this one process.")
  static final class Run implements Callable<Integer> {
    @CommandLine.ParentCommand BatchCommand parent;
    @Mixin Options options;

    @Override
    public Integer call() {
      return parent.execute(
          options, EnumSet.of(BatchConfig.Need.INPUT, BatchConfig.Need.OUTPUT), BatchJob::run);
    }
  }

  @Command(
      name = "plan",
      mixinStandardHelpOptions = true,
      description = "List the input files, split large ones, pin the model version: _plan.json.")
  static final class Plan implements Callable<Integer> {
    @CommandLine.ParentCommand BatchCommand parent;
    @Mixin Options options;

    @Override
    public Integer call() {
      return parent.execute(
          options, EnumSet.of(BatchConfig.Need.INPUT, BatchConfig.Need.OUTPUT), BatchJob::plan);
    }
  }

  @Command(
      name = "score",
      mixinStandardHelpOptions = true,
      description = "Score one part: BATCH_PART of the object BATCH_INPUT_URI, BATCH_BYTE_RANGE.")
  static final class Score implements Callable<Integer> {
    @CommandLine.ParentCommand BatchCommand parent;
    @Mixin Options options;

    @Override
    public Integer call() {
      return parent.execute(
          options, EnumSet.of(BatchConfig.Need.INPUT, BatchConfig.Need.OUTPUT), BatchJob::score);
    }
  }

  @Command(
      name = "merge",
      mixinStandardHelpOptions = true,
      description = "Join the parts, write the manifest _SUCCESS, publish to SNS.")
  static final class Merge implements Callable<Integer> {
    @CommandLine.ParentCommand BatchCommand parent;
    @Mixin Options options;

    @Override
    public Integer call() {
      return parent.execute(options, EnumSet.of(BatchConfig.Need.OUTPUT), BatchJob::merge);
    }
  }
}
