package dev.mlserve;

import dev.mlserve.config.ConfigException;
import dev.mlserve.config.ServerConfig;

/** Reads the configuration from the environment, starts the service, and drains on SIGTERM. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
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
    Runtime.getRuntime().addShutdownHook(new Thread(app::close, "graceful-shutdown"));
    boolean loaded = app.start();
    if (!loaded && config.modelPollSeconds() == 0) {
      org.slf4j.LoggerFactory.getLogger(Main.class)
          .error(
              "no model could be loaded from {} and MODEL_POLL_SECONDS is 0; exiting",
              config.modelBasePath());
      System.exit(1);
    }
  }
}
