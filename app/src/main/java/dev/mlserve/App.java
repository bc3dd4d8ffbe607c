package dev.mlserve;

import dev.mlserve.capture.CaptureSink;
import dev.mlserve.capture.S3CaptureWriter;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.http.HttpApi;
import dev.mlserve.http.ServerState;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.model.ModelLoader;
import dev.mlserve.model.ModelRegistry;
import dev.mlserve.predict.PredictionService;
import dev.mlserve.store.LocalModelSource;
import dev.mlserve.store.ModelSource;
import dev.mlserve.store.ModelSync;
import dev.mlserve.store.S3Clients;
import dev.mlserve.store.S3Location;
import dev.mlserve.store.S3ModelSource;
import io.javalin.Javalin;
import io.javalin.util.LoomUtil;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.NetworkConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Wires the service once from its configuration: model source → registry → prediction path → HTTP.
 * {@link #start} serves liveness at once, loads and warms up the models, then reports ready; {@link
 * #close} drains: not ready, stop accepting, let in-flight requests finish (bounded), stop.
 */
public final class App implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(App.class);

  private final ServerConfig config;
  private final ServingMetrics metrics;
  private final ModelRegistry registry;
  private final ModelSource source;
  private final ModelSync sync;
  private final CaptureSink capture;
  private final PredictionService predictions;
  private final ServerState state = new ServerState();
  private final Javalin http;
  private volatile boolean closed;
  private S3Client ownedS3;

  private App(
      ServerConfig config, ServingMetrics metrics, ModelSource source, CaptureSink capture) {
    this.config = config;
    this.metrics = metrics;
    this.registry = new ModelRegistry();
    this.source = source;
    this.capture = capture;
    this.predictions = new PredictionService(registry, config, metrics, capture);
    this.sync =
        new ModelSync(
            source,
            registry,
            config.versionPolicy(),
            metrics,
            new ModelLoader.Threads(
                config.tensorFlow().intraOpThreads(), config.tensorFlow().interOpThreads()),
            predictions::applySettings);
    this.http = new HttpApi(config, predictions, metrics, state).create();
    metrics.gauge("mlserve_requests_in_flight", "HTTP requests being served", state::inFlight);
    metrics.gauge(
        "mlserve_ready",
        "1 when every model is loaded and the server is not draining",
        () -> state.ready() ? 1 : 0);
  }

  /**
   * Builds the service for {@code config}; nothing listens until {@link #start}. When the models or
   * the capture live in S3, the client comes from the AWS SDK's own environment (region,
   * credentials chain, {@code AWS_ENDPOINT_URL_S3}).
   */
  public static App create(ServerConfig config) {
    boolean needsS3 = config.modelsFromS3() || config.capture().s3Uri().isPresent();
    S3Client s3 = needsS3 ? S3Clients.fromEnvironment() : null;
    App app = create(config, s3);
    app.ownedS3 = s3; // built here, so closed here
    return app;
  }

  /**
   * Builds the service with a given S3 client (tests, or a caller that owns one); {@code s3} may be
   * null when neither the models nor the capture are in S3. The client is not closed by the app.
   */
  public static App create(ServerConfig config, S3Client s3) {
    ServingMetrics metrics = new ServingMetrics();
    ModelSource source;
    if (config.modelsFromS3()) {
      try {
        source =
            new S3ModelSource(
                requireS3(s3), S3Location.parse(config.modelBasePath()), config.modelCacheDir());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot use model cache " + config.modelCacheDir(), e);
      }
    } else {
      source = new LocalModelSource(Path.of(config.modelBasePath()));
    }
    CaptureSink capture = CaptureSink.NONE;
    if (config.capture().s3Uri().isPresent()) {
      S3Location to = S3Location.parse(config.capture().s3Uri().get());
      capture =
          new S3CaptureWriter(requireS3(s3), to.bucket(), to.prefix(), config.capture(), metrics);
    }
    return new App(config, metrics, source, capture);
  }

  private static S3Client requireS3(S3Client s3) {
    return Objects.requireNonNull(s3, "an S3 client is needed for s3:// locations");
  }

  /**
   * Starts listening, loads every model (blocking), and starts polling for new versions when {@code
   * MODEL_POLL_SECONDS > 0}. Returns whether every model loaded.
   */
  public boolean start() {
    http.start();
    log.info(
        "listening on port {} (requests on {} threads); loading models from {}",
        http.port(),
        // the pool Jetty runs requests on, as Javalin built it (virtual only where the JVM has
        // them)
        LoomUtil.INSTANCE.isLoomThreadPool(http.jettyServer().threadPool())
            ? "virtual"
            : "platform",
        config.modelBasePath());
    boolean loaded = refresh();
    if (config.modelPollSeconds() > 0) {
      sync.startPolling(Duration.ofSeconds(config.modelPollSeconds()), this::afterPoll);
    }
    if (loaded) {
      log.info("ready: models {}", registry.modelNames());
    }
    return loaded;
  }

  /** One pass over the model store now (tests and the poller use it). */
  public boolean refresh() {
    boolean ok = sync.syncOnce();
    afterPoll(ok);
    return ok;
  }

  private void afterPoll(boolean ok) {
    if (ok) {
      state.modelsReady(true, "");
    } else if (!state.ready()) {
      state.modelsReady(false, "no model could be loaded from " + config.modelBasePath());
    }
    // once ready, a failed poll (store unreachable, broken upload) keeps serving what is loaded
  }

  public int port() {
    return http.port();
  }

  public boolean ready() {
    return state.ready();
  }

  public ModelRegistry registry() {
    return registry;
  }

  /** Graceful stop; safe to call twice (the shutdown hook and a test may both call it). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long start = System.nanoTime();
    log.info("shutting down: draining up to {} s", config.shutdownTimeout().toSeconds());
    state.startDraining();
    sync.close();
    if (http.jettyServer() != null && http.jettyServer().server() != null) {
      for (Connector c : http.jettyServer().server().getConnectors()) {
        if (c instanceof NetworkConnector nc) {
          nc.close(); // stop accepting; open connections finish what they are doing
        }
      }
    }
    // Wait until nothing has been in flight for a short quiet spell: a keep-alive connection
    // can still carry one more request after the count first touches zero.
    long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
    long quietSince = -1;
    while (System.nanoTime() < deadline) {
      if (state.inFlight() > 0) {
        quietSince = -1;
      } else if (quietSince < 0) {
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince > 100_000_000L) {
        break;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (state.inFlight() > 0) {
      log.warn("{} requests still running after the drain timeout", state.inFlight());
    }
    http.stop();
    predictions.close();
    capture.close();
    registry.close();
    if (ownedS3 != null) {
      ownedS3.close();
    }
    log.info("stopped after {} ms", (System.nanoTime() - start) / 1_000_000);
  }
}
