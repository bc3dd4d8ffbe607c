package dev.mlserve.store;

import dev.mlserve.config.ModelSettings;
import dev.mlserve.config.VersionPolicy;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.model.ModelLoadException;
import dev.mlserve.model.ModelLoader;
import dev.mlserve.model.ModelRegistry;
import dev.mlserve.model.ModelVersion;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the registry in step with the model source: loads and warms up the versions the policy
 * wants, swaps them in, and retires versions no longer wanted — but only once a wanted version is
 * live, so a broken upload or an unreachable store never takes the served version down.
 */
public final class ModelSync implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelSync.class);

  private final ModelSource source;
  private final ModelRegistry registry;
  private final VersionPolicy defaultPolicy;
  private final ServingMetrics metrics;
  private final Map<String, String> lastSettingsError = new ConcurrentHashMap<>();
  private final Map<String, byte[]> lastSettings = new ConcurrentHashMap<>();
  private final Map<String, ModelSettings> settings = new ConcurrentHashMap<>();
  private final ModelLoader.Threads threads;
  private final BiConsumer<String, ModelSettings> onSettings;

  /** Refused versions and the poll at which to try them again (backoff doubles, max 32 polls). */
  private final Map<String, int[]> refused = new ConcurrentHashMap<>();

  private int polls;
  private ScheduledExecutorService poller;

  /**
   * @param threads TensorFlow thread pools for every version loaded
   * @param onSettings told a model's settings before its versions are synced, on every poll (the
   *     prediction path resolves its policy from them)
   */
  public ModelSync(
      ModelSource source,
      ModelRegistry registry,
      VersionPolicy defaultPolicy,
      ServingMetrics metrics,
      ModelLoader.Threads threads,
      BiConsumer<String, ModelSettings> onSettings) {
    this.source = source;
    this.registry = registry;
    this.defaultPolicy = defaultPolicy;
    this.metrics = metrics;
    this.threads = threads;
    this.onSettings = onSettings;
  }

  /** The settings last read for {@code model} (none before its first poll). */
  public ModelSettings settings(String model) {
    return settings.getOrDefault(model, ModelSettings.none());
  }

  /**
   * One pass over the source. Returns true when every model found has at least one live version.
   */
  public synchronized boolean syncOnce() {
    polls++;
    List<String> models;
    try {
      models = source.models();
    } catch (IOException | RuntimeException e) {
      log.warn(
          "model store {} unreachable: {}; serving what is loaded",
          source.describe(),
          e.toString());
      metrics.storeError(sourceKind());
      return false;
    }
    if (models.isEmpty()) {
      log.warn("no models found in {}", source.describe());
    }
    boolean allLive = true;
    for (String model : models) {
      try {
        syncModel(model);
      } catch (IOException | RuntimeException e) {
        log.warn("model {}: store error: {}; keeping the live versions", model, e.toString());
        metrics.storeError(sourceKind());
      }
      allLive &= !registry.liveVersions(model).isEmpty();
    }
    return allLive && !models.isEmpty();
  }

  private void syncModel(String model) throws IOException {
    ModelSettings settings = readSettings(model);
    if (!settings.equals(this.settings.put(model, settings))) {
      onSettings.accept(model, settings);
    }
    SortedSet<Long> available = source.versions(model);
    VersionPolicy policy = settings.versionPolicy().orElse(defaultPolicy);
    Set<Long> wanted = new TreeSet<>(policy.select(available));
    // Versions named by labels and variants are served too, as TensorFlow Serving requires.
    settings.labels().values().stream().filter(available::contains).forEach(wanted::add);
    settings.variants().stream()
        .filter(v -> v.model().isEmpty() || v.model().get().equals(model))
        .filter(v -> v.version().isPresent())
        .map(v -> v.version().getAsLong())
        .filter(available::contains)
        .forEach(wanted::add);
    Set<Long> live = new HashSet<>(registry.liveVersions(model));
    for (long v : wanted) {
      if (!live.contains(v) && dueForAttempt(model, v)) {
        load(model, v);
      }
    }
    Set<Long> nowLive = new HashSet<>(registry.liveVersions(model));
    boolean aWantedVersionIsLive = wanted.stream().anyMatch(nowLive::contains);
    if (aWantedVersionIsLive) {
      for (long v : nowLive) {
        if (!wanted.contains(v)) {
          registry.unload(model, v);
          source.evict(model, v);
        }
      }
    } else if (!nowLive.isEmpty() && !wanted.isEmpty()) {
      log.warn(
          "model {}: none of the wanted versions {} could be loaded; still serving {}",
          model,
          wanted,
          nowLive);
    }
  }

  /** A refused version is retried after 1, 2, 4 … 32 polls, not downloaded again every poll. */
  private boolean dueForAttempt(String model, long version) {
    int[] retry = refused.get(model + "/" + version);
    return retry == null || polls >= retry[0];
  }

  private void load(String model, long version) {
    long start = System.nanoTime();
    registry.markLoading(model, version);
    String key = model + "/" + version;
    try {
      Path dir = source.materialize(model, version);
      ModelVersion mv = ModelLoader.load(model, version, dir, threads);
      registry.install(mv);
      refused.remove(key);
      metrics.modelLoad(model, version, true, System.nanoTime() - start);
      log.info(
          "model {} version {} loaded from {} in {} ms",
          model,
          version,
          source.describe(),
          (System.nanoTime() - start) / 1_000_000);
    } catch (IOException | RuntimeException e) {
      String why = e.getMessage();
      registry.markFailed(model, version, why);
      metrics.modelLoad(model, version, false, System.nanoTime() - start);
      int[] retry = refused.computeIfAbsent(key, k -> new int[] {0, 0});
      retry[1] = retry[1] == 0 ? 1 : Math.min(retry[1] * 2, 32);
      retry[0] = polls + retry[1];
      log.error(
          "refused {}: {}; the live versions keep serving, next try in {} poll(s)",
          key,
          e instanceof ModelLoadException ? why.substring(why.indexOf(": ") + 2) : why,
          retry[1]);
      source.evict(model, version);
    }
  }

  private ModelSettings readSettings(String model) throws IOException {
    Optional<byte[]> raw = source.settings(model);
    if (raw.isEmpty()) {
      lastSettings.remove(model);
      return ModelSettings.none();
    }
    try {
      ModelSettings s = ModelSettings.parse(raw.get());
      if (lastSettingsError.remove(model) != null
          || !java.util.Arrays.equals(lastSettings.put(model, raw.get()), raw.get())) {
        log.info("model {}: settings loaded from {}", model, ModelSettings.FILE_NAME);
      }
      return s;
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().equals(lastSettingsError.put(model, e.getMessage()))) {
        log.error(
            "model {}: {} is invalid ({}); keeping the previous settings",
            model,
            ModelSettings.FILE_NAME,
            e.getMessage());
        metrics.count("mlserve_settings_errors", "Invalid serving.json files seen", "model", model);
      }
      return settings(model);
    }
  }

  /** Polls every {@code interval} in the background. */
  public void startPolling(Duration interval, java.util.function.Consumer<Boolean> afterEachPoll) {
    poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "model-poller");
              t.setDaemon(true);
              return t;
            });
    poller.scheduleWithFixedDelay(
        () -> {
          try {
            afterEachPoll.accept(syncOnce());
          } catch (RuntimeException e) {
            log.error("model poll failed", e);
          }
        },
        interval.toMillis(),
        interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private String sourceKind() {
    return source instanceof LocalModelSource ? "local" : "s3";
  }

  @Override
  public void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
  }
}
