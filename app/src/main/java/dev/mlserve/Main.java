package dev.mlserve;

import dev.mlserve.batch.BatchCommand;
import dev.mlserve.config.ConfigException;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.drift.DriftCommand;
import dev.mlserve.warmup.AotTrainingCommand;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The image's one entry point. Without arguments it reads the configuration from the environment,
 * starts the service, and drains on SIGTERM. With a command name first ({@code release}, {@code
 * batch}, {@code drift}, …) it runs that job instead — the jobs are siblings of the service that
 * reuse its configuration, model loading and store, so one image serves, scores files and releases
 * models (ECS task definitions pick one with {@code command}).
 */
public final class Main {
  private Main() {}

  /**
   * Jobs that share the image, by the name that selects them. Each takes the arguments after its
   * name and returns the process exit code.
   */
  private static final Map<String, Function<String[], Integer>> COMMANDS =
      Map.of(
          "release",
          dev.mlserve.release.ReleaseCommand::run,
          "aot-training",
          args -> new CommandLine(new AotTrainingCommand()).execute(args),
          "drift",
          args -> new CommandLine(new DriftCommand()).execute(args),
          "batch",
          args -> new CommandLine(new BatchCommand()).execute(args));

  public static void main(String[] args) {
    // JavaCPP, under TensorFlow Java, refuses native allocations once the process's resident
    // memory passes ~4 x the maximum heap, TensorFlow's own memory included: a small -Xmx makes a
    // model fail to load or score. The container's memory limit is the real bound.
    if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null
        && System.getProperty("org.bytedeco.javacpp.maxphysicalbytes") == null) {
      System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
    }
    if (args.length > 0 && !args[0].equals("serve")) {
      Function<String[], Integer> command = COMMANDS.get(args[0]);
      if (command == null) {
        System.err.println(
            "unknown command '"
                + args[0]
                + "'; commands: serve (the default), "
                + COMMANDS.keySet());
        System.exit(2);
        return;
      }
      int code = command.apply(Arrays.copyOfRange(args, 1, args.length));
      stopLogging();
      System.exit(code);
      return;
    }
    serve();
  }

  private static void serve() {
    ServerConfig config;
    try {
      config = ServerConfig.fromEnvironment(System.getenv());
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    // Chooses the log format before the first logger exists.
    if (config.logFormat().equals("json")) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    App app = App.create(config);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  app.close();
                  stopLogging();
                },
                "graceful-shutdown"));
    boolean loaded = app.start();
    if (!loaded && config.modelPollSeconds() == 0) {
      org.slf4j.LoggerFactory.getLogger(Main.class)
          .error(
              "no model could be loaded from {} and MODEL_POLL_SECONDS is 0; exiting",
              config.modelBasePath());
      System.exit(1);
    }
  }

  /**
   * Writes out what the asynchronous log appender still holds: it hands lines to standard output in
   * batches, and what it holds when the JVM halts is lost.
   */
  private static void stopLogging() {
    if (org.slf4j.LoggerFactory.getILoggerFactory()
        instanceof ch.qos.logback.classic.LoggerContext logging) {
      logging.stop();
    }
  }
}
