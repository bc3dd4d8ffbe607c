package dev.mlserve.predict;

import dev.mlserve.capture.CaptureRecord;
import dev.mlserve.capture.CaptureSink;
import dev.mlserve.config.Band;
import dev.mlserve.config.ModelSettings;
import dev.mlserve.config.ModelSettings.Variant;
import dev.mlserve.config.ServerConfig;
import dev.mlserve.errors.ServingException;
import dev.mlserve.metrics.ServingMetrics;
import dev.mlserve.metrics.ServingMetrics.VariantMeters;
import dev.mlserve.model.DType;
import dev.mlserve.model.ModelRegistry;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one prediction path both HTTP APIs share. {@link #predict} takes a request in plain values
 * down once — route (label, variant, version), acquire, conform to the signature, batch, run, flag
 * low confidence, capture — and comes back up once with the result; the version it acquired is
 * released in one {@code finally}. Per-model policy is resolved when settings change, not per
 * request.
 */
public final class PredictionService implements AutoCloseable {
  private final ModelRegistry registry;
  private final ServerConfig config;
  private final BatchScheduler scheduler;
  private final CaptureSink capture;
  private final ServingMetrics metrics;
  private final ModelPolicy defaults;
  private final Map<String, ModelPolicy> policies = new ConcurrentHashMap<>();

  public PredictionService(
      ModelRegistry registry, ServerConfig config, ServingMetrics metrics, CaptureSink capture) {
    this.registry = registry;
    this.config = config;
    this.capture = capture;
    this.metrics = metrics;
    this.defaults = ModelPolicy.resolve(ModelSettings.none(), config);
    this.scheduler = new BatchScheduler(config.batching().workers(), metrics);
  }

  /** Resolves {@code model}'s policy from its settings; called when serving.json changes. */
  public void applySettings(String model, ModelSettings settings) {
    policies.put(model, ModelPolicy.resolve(settings, config));
  }

  /** The policy requests to {@code model} follow now. */
  public ModelPolicy policy(String model) {
    ModelPolicy p = policies.get(model);
    return p == null ? defaults : p;
  }

  /**
   * Serves one prediction.
   *
   * @throws ServingException for anything the client must hear about; once the request was routed,
   *     the exception carries the route ({@link ServingException#routed})
   */
  public PredictResult predict(PredictRequest req) {
    long start = System.nanoTime();
    ModelPolicy policy = policy(req.model());
    String model = req.model();
    OptionalLong version = req.version();
    String variant = "";
    if (req.label().isPresent()) {
      version = OptionalLong.of(resolveLabel(model, req.label().get(), policy));
    } else if (version.isEmpty() && !policy.variants().isEmpty()) {
      Optional<String> key = policy.stickyHeader().map(req.headers());
      Variant v = VariantRouter.choose(policy.variants(), key);
      variant = v.name();
      if (v.model().isPresent() && !v.model().get().equals(model)) {
        model = v.model().get();
        policy = policy(model);
      }
      version = v.version();
    }
    ModelVersion mv;
    try {
      mv = registry.acquire(model, version);
    } catch (ServingException.Unavailable e) {
      // routed to a version that is not live yet (loading): count it against that version
      if (version.isPresent()) {
        metrics.variant(model, version.getAsLong(), variant).error(e.kind());
        e.routedTo(model, version.getAsLong(), variant);
      }
      throw e;
    }
    VariantMeters meters = metrics.variant(mv.name(), mv.version(), variant);
    try {
      SignatureSpec spec = mv.signature(req.signature());
      Set<String> wanted = checkOutputs(spec, req.outputs());
      Map<String, Values> inputs = spec.conform(req.inputs());
      int rows = spec.rows(inputs);
      if (rows > config.limits().maxRows()) {
        throw new ServingException.BadInput(
            "too many rows: " + rows + " (the limit is " + config.limits().maxRows() + ")");
      }
      Map<String, Values> out =
          policy.batching().enabled() && spec.batchable()
              ? scheduler.run(mv, spec, inputs, rows, this::policy)
              : mv.run(spec, inputs);
      Values score = singleScore(out);
      int[] low = new int[0];
      if (score != null) {
        for (int i = 0; i < score.size(); i++) {
          meters.score(score.number(i));
        }
        low = policy.band().map(b -> flagged(b, score)).orElse(low);
      }
      meters.rows(rows);
      meters.lowConfidence(low.length);
      if (!wanted.isEmpty()) {
        out = new LinkedHashMap<>(out);
        out.keySet().retainAll(wanted);
      }
      PredictResult result =
          new PredictResult(
              req.requestId(), mv.name(), mv.version(), variant, out, rows, low, meters);
      maybeCapture(policy, result, spec, inputs, start);
      return result;
    } catch (ServingException e) {
      meters.error(e.kind());
      throw e.routedTo(mv.name(), mv.version(), variant);
    } catch (RuntimeException e) {
      meters.error("internal");
      throw new ServingException.Internal("the prediction failed: " + e, e)
          .routedTo(mv.name(), mv.version(), variant);
    } finally {
      mv.release();
    }
  }

  /** Names of every model that has or had a version. */
  public List<String> modelNames() {
    return List.copyOf(registry.modelNames());
  }

  /**
   * A read-only picture of {@code model}.
   *
   * @throws ServingException.NotFound when it is not served here
   */
  public ModelView model(String model) {
    var status = registry.status(model);
    if (status.isEmpty()) {
      throw new ServingException.NotFound("model '" + model + "' is not served here");
    }
    ModelPolicy p = policy(model);
    return new ModelView(model, status, registry.liveVersions(model), p.labels(), p.variants());
  }

  /**
   * The signatures and card of a live version (the latest when neither version nor label is given).
   */
  public ModelView.Version describe(String model, OptionalLong version, Optional<String> label) {
    if (label.isPresent()) {
      version = OptionalLong.of(resolveLabel(model, label.get(), policy(model)));
    }
    ModelVersion mv = registry.acquire(model, version);
    try {
      return new ModelView.Version(mv.name(), mv.version(), mv.signatures(), mv.card());
    } finally {
      mv.release();
    }
  }

  /**
   * The version a label names.
   *
   * @throws ServingException.NotFound for an unknown label
   */
  public long resolveLabel(String model, String label) {
    return resolveLabel(model, label, policy(model));
  }

  private static long resolveLabel(String model, String label, ModelPolicy policy) {
    Long v = policy.labels().get(label);
    if (v == null) {
      throw new ServingException.NotFound(
          "model '"
              + model
              + "' has no label '"
              + label
              + "'; labels: "
              + policy.labels().keySet());
    }
    return v;
  }

  private static Set<String> checkOutputs(SignatureSpec spec, Set<String> wanted) {
    for (String name : wanted) {
      if (!spec.outputs().containsKey(name)) {
        throw new ServingException.BadInput(
            "signature '"
                + spec.key()
                + "' has no output '"
                + name
                + "'; its outputs are "
                + spec.outputs().keySet());
      }
    }
    return wanted;
  }

  /** The output when it is one floating-point number per row, else null. */
  private static Values singleScore(Map<String, Values> out) {
    if (out.size() != 1) {
      return null;
    }
    Values v = out.values().iterator().next();
    if ((v.dtype() != DType.FLOAT && v.dtype() != DType.DOUBLE) || v.size() != v.rows()) {
      return null;
    }
    return v;
  }

  /** Rows of a single-score output that fall inside the band. */
  private static int[] flagged(Band band, Values scores) {
    int count = 0;
    int[] rows = new int[scores.size()];
    for (int i = 0; i < scores.size(); i++) {
      if (band.flags(scores.number(i))) {
        rows[count++] = i;
      }
    }
    return Arrays.copyOf(rows, count);
  }

  private void maybeCapture(
      ModelPolicy policy,
      PredictResult p,
      SignatureSpec spec,
      Map<String, Values> inputs,
      long startNanos) {
    double percent = policy.capturePercent();
    if (percent <= 0 || ThreadLocalRandom.current().nextDouble(100) >= percent) {
      return;
    }
    capture.offer(
        new CaptureRecord(
            p.requestId(),
            Instant.now(),
            p.model(),
            p.version(),
            p.variant(),
            spec.key(),
            plain(inputs),
            plain(p.outputs()),
            (System.nanoTime() - startNanos) / 1e6,
            p.lowConfidenceRows()));
  }

  /** Values as {"shape": [...], "data": [...]} with strings decoded as UTF-8. */
  static Map<String, Object> plain(Map<String, Values> values) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (var e : values.entrySet()) {
      Values v = e.getValue();
      List<Object> data = new ArrayList<>(v.size());
      for (int i = 0; i < v.size(); i++) {
        data.add(
            switch (v.dtype()) {
              case STRING -> new String(v.bytes(i), StandardCharsets.UTF_8);
              case BOOL -> v.bool(i);
              case INT32, INT64 -> v.integer(i);
              case FLOAT, DOUBLE -> v.number(i);
            });
      }
      Map<String, Object> tensor = new LinkedHashMap<>();
      tensor.put("shape", v.shape());
      tensor.put("data", data);
      out.put(e.getKey(), tensor);
    }
    return out;
  }

  @Override
  public void close() {
    scheduler.close();
  }
}
