package dev.mlserve.batch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserve.store.LocalModelSource;
import dev.mlserve.store.ModelSource;
import dev.mlserve.store.S3Location;
import dev.mlserve.store.S3ModelSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;

/**
 * The batch job's steps. {@link #plan}, {@link #score} and {@link #merge} are what the state
 * machine runs as separate Fargate tasks (the scoring step once per part, fanned out by a
 * Distributed Map); {@link #run} does all three in one process for a single task or a laptop.
 */
public final class BatchJob {
  private final BatchConfig config;
  private final BatchStore store;
  private final S3Client s3;
  private final Supplier<SnsClient> sns;
  private final Path workDir;

  /**
   * @param s3 the client for the input, output and (when in S3) the models; not closed here
   * @param sns built only when a topic is configured; not closed here
   */
  public BatchJob(BatchConfig config, S3Client s3, Supplier<SnsClient> sns) {
    this.config = config;
    this.s3 = s3;
    this.store = new BatchStore(s3);
    this.sns = sns;
    this.workDir = Path.of(System.getProperty("java.io.tmpdir"), "ml-serve-batch");
  }

  private ModelSource source() throws IOException {
    String base = config.server().modelBasePath();
    return config.server().modelsFromS3()
        ? new S3ModelSource(s3, S3Location.parse(base), config.server().modelCacheDir())
        : new LocalModelSource(Path.of(base));
  }

  /** Resolves the model version and writes the plan. */
  public List<PlanItem> plan() throws IOException {
    return Planner.plan(store, config, ModelChoice.resolve(source(), config));
  }

  /** Scores the one part the configuration names ({@code BATCH_PART} and its range). */
  public PartSummary score() throws IOException {
    S3Location in = config.input().orElseThrow();
    String part =
        config.part().orElseThrow(() -> new IOException("BATCH_PART is required to score a part"));
    String name = in.prefix().substring(in.prefix().lastIndexOf('/') + 1);
    ByteRange range = config.byteRange().orElse(null);
    if (range == null) {
      long size =
          store
              .size(in.bucket(), in.prefix())
              .orElseThrow(() -> new IOException("no input object " + in));
      range = new ByteRange(0, size);
    }
    InputFormat format =
        config
            .format()
            .or(() -> InputFormat.ofFileName(name))
            .orElseThrow(() -> new IOException("set BATCH_INPUT_FORMAT for " + name));
    ModelSource source = source();
    ModelChoice choice = ModelChoice.resolve(source, config);
    PlanItem item =
        new PlanItem(
            part,
            in.toString(),
            name,
            format.id(),
            range.toString(),
            choice.model(),
            choice.version());
    try (ScoringModel model = ScoringModel.load(source, choice, config.signature())) {
      return new PartScorer(store, config, model, workDir).score(item);
    }
  }

  /** Joins the parts, writes the manifest, then publishes the notification when configured. */
  public ObjectNode merge() throws IOException {
    ObjectNode manifest = Merger.merge(store, config, workDir);
    notify(manifest);
    return manifest;
  }

  /** Plan, score every part with one loaded model, merge. */
  public ObjectNode run() throws IOException {
    ModelSource source = source();
    ModelChoice choice = ModelChoice.resolve(source, config);
    List<PlanItem> plan = Planner.plan(store, config, choice);
    try (ScoringModel model = ScoringModel.load(source, choice, config.signature())) {
      PartScorer scorer = new PartScorer(store, config, model, workDir);
      for (PlanItem item : plan) {
        scorer.score(item);
      }
    }
    return merge();
  }

  private void notify(ObjectNode manifest) {
    Optional<String> topic = config.snsTopicArn();
    topic.ifPresent(t -> Notifier.publish(sns.get(), t, manifest));
  }
}
