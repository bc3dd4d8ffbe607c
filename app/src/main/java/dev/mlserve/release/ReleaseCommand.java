package dev.mlserve.release;

import dev.mlserve.config.ConfigException;
import dev.mlserve.release.ReleaseController.CanaryPlan;
import dev.mlserve.release.ReleaseController.GateResult;
import dev.mlserve.store.S3Clients;
import dev.mlserve.store.S3ModelSource;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;

/**
 * {@code release}: the command line of the release controller, one entry of Main's commands. The
 * environment configures where things are ({@link ReleaseConfig}); options say what to do. Exit
 * status: 0 done (promoted, adopted, manual step), 1 error, 2 bad configuration or usage, 3 refused
 * by the gate, 4 rolled back by the live judgement, 5 serving.json changed underneath.
 */
@Command(
    name = "release",
    mixinStandardHelpOptions = true,
    description = {
      "Release a model version safely: evaluation gate, canary, automatic promote or rollback.",
      "Configured by MODEL_BASE_PATH (s3://...), PROMETHEUS_URL, RELEASE_SNS_TOPIC_ARN,",
      "PROMETHEUS_SIGV4, MODEL_CACHE_DIR, GITHUB_STEP_SUMMARY, RELEASE_RUN_URL and the AWS SDK's",
      "own variables. Exit: 0 ok, 1 error, 2 usage, 3 gate refused, 4 rolled back, 5 concurrent edit."
    },
    subcommands = {
      ReleaseCommand.Adopt.class,
      ReleaseCommand.Evaluate.class,
      ReleaseCommand.Start.class,
      ReleaseCommand.Promote.class,
      ReleaseCommand.Rollback.class,
      ReleaseCommand.Status.class
    })
public final class ReleaseCommand implements Callable<Integer> {
  private final Function<ReleaseConfig, ReleaseController> wiring;
  private final Map<String, String> env;
  private ReleaseController controller;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  ReleaseCommand(Map<String, String> env, Function<ReleaseConfig, ReleaseController> wiring) {
    this.env = env;
    this.wiring = wiring;
  }

  /** Main's entry: the real environment and AWS clients. */
  public static int run(String[] args) {
    return run(args, System.getenv(), ReleaseCommand::fromEnvironment);
  }

  static int run(
      String[] args, Map<String, String> env, Function<ReleaseConfig, ReleaseController> wiring) {
    CommandLine cli = new CommandLine(new ReleaseCommand(env, wiring));
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          PrintWriter err = cmd.getErr();
          if (e instanceof ConfigException) {
            err.println(e.getMessage());
            return 2;
          }
          err.println("release: " + e.getMessage());
          return e instanceof ServingFile.ConcurrentEditException ? 5 : 1;
        });
    return cli.execute(args);
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }

  ReleaseController controller() {
    if (controller == null) {
      controller = wiring.apply(ReleaseConfig.fromEnvironment(env));
    }
    return controller;
  }

  private static ReleaseController fromEnvironment(ReleaseConfig config) {
    S3Client s3 = S3Clients.fromEnvironment(); // lives as long as this one-shot process
    S3ModelSource source;
    try {
      source = new S3ModelSource(s3, config.models(), config.cacheDir());
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot use MODEL_CACHE_DIR " + config.cacheDir() + ": " + e.getMessage());
    }
    Optional<LiveJudge> live =
        config
            .prometheusUrl()
            .map(
                u ->
                    new LiveJudge(
                        new PrometheusClient(
                            u,
                            config.prometheusSigV4()
                                ? Optional.of(DefaultCredentialsProvider.builder().build())
                                : Optional.empty())));
    Optional<SnsClient> sns = config.snsTopicArn().map(t -> SnsClient.create());
    return new ReleaseController(
        new ServingFile(s3, config.models()),
        source,
        live,
        new Notifier(sns, config.snsTopicArn(), config.summaryFile(), config.runUrl()),
        Clock.systemUTC());
  }

  abstract static class ModelCommand implements Callable<Integer> {
    @ParentCommand ReleaseCommand parent;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "model name")
    String model;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    int report(Decision d) {
      out().println(d.markdown(Optional.empty()));
      out().flush();
      return d.exitCode();
    }
  }

  @Command(
      name = "adopt",
      description = "Make VERSION the stable version (before a first release).")
  static final class Adopt extends ModelCommand {
    @Option(names = "--version", required = true, description = "version to make stable")
    long version;

    @Override
    public Integer call() throws Exception {
      return report(parent.controller().adopt(model, version));
    }
  }

  @Command(name = "evaluate", description = "Run the evaluation gate only; change nothing.")
  static final class Evaluate extends ModelCommand {
    @Option(names = "--version", required = true, description = "candidate version")
    long version;

    @Override
    public Integer call() throws Exception {
      GateResult g = parent.controller().evaluate(model, version);
      Decision shown =
          new Decision(
              java.time.Instant.now(),
              model,
              g.passed() ? "gate_passed" : "refused",
              "auto",
              Optional.empty(),
              Optional.of(version),
              g.failedRules(),
              g.checks(),
              java.util.List.of());
      report(shown);
      return g.passed() ? 0 : 3;
    }
  }

  @Command(
      name = "start",
      description = "Gate, stage, canary, bake, then promote or roll back automatically.")
  static final class Start extends ModelCommand {
    @Option(names = "--version", required = true, description = "candidate version")
    long version;

    @Option(
        names = "--canary-weight",
        defaultValue = "10",
        description = "percent of traffic (default ${DEFAULT-VALUE})")
    double weight;

    @Option(
        names = "--bake-seconds",
        defaultValue = "600",
        description = "bake time (default ${DEFAULT-VALUE})")
    long bakeSeconds;

    @Option(
        names = "--min-requests",
        description = "requests each variant needs (default: release.live.min_requests, 200)")
    Double minRequests;

    @Option(names = "--sticky-header", description = "route by a hash of this request header")
    String sticky;

    @Option(
        names = "--stage-timeout-seconds",
        defaultValue = "300",
        description =
            "how long every task may take to load the candidate (default ${DEFAULT-VALUE})")
    long stageTimeout;

    @Option(
        names = "--poll-seconds",
        defaultValue = "15",
        description = "how often metrics are read (default ${DEFAULT-VALUE})")
    double poll;

    @Override
    public Integer call() throws Exception {
      CanaryPlan plan =
          new CanaryPlan(
              weight,
              Duration.ofSeconds(bakeSeconds),
              minRequests == null ? OptionalDouble.empty() : OptionalDouble.of(minRequests),
              Optional.ofNullable(sticky),
              Duration.ofSeconds(stageTimeout),
              Duration.ofMillis((long) (poll * 1000)));
      return report(parent.controller().start(model, version, plan));
    }
  }

  @Command(name = "promote", description = "Promote the candidate in flight now.")
  static final class Promote extends ModelCommand {
    @Option(
        names = "--reason",
        defaultValue = "promoted by hand",
        description = "recorded with the decision")
    String reason;

    @Override
    public Integer call() throws Exception {
      return report(parent.controller().promote(model, reason));
    }
  }

  @Command(
      name = "rollback",
      description = "Back to stable (release in flight) or to the previous version (otherwise).")
  static final class Rollback extends ModelCommand {
    @Option(
        names = "--reason",
        defaultValue = "rolled back by hand",
        description = "recorded with the decision")
    String reason;

    @Override
    public Integer call() throws Exception {
      return report(parent.controller().rollback(model, reason));
    }
  }

  @Command(name = "status", description = "Labels, weights, a release in flight, last decisions.")
  static final class Status extends ModelCommand {
    @Override
    public Integer call() throws Exception {
      out().print(parent.controller().status(model));
      out().flush();
      return 0;
    }
  }
}
