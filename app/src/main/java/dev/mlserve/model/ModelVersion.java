package dev.mlserve.model;

import dev.mlserve.errors.ServingException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * One loaded version of a model: the SavedModel, its servable signatures, and a reference count so
 * that a version swapped out while requests are running is closed only after the last of them
 * finishes (and its native memory freed then, not by the GC).
 */
public final class ModelVersion implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelVersion.class);

  private final String name;
  private final long version;
  private final SavedModelBundle bundle;
  private final Map<String, SignatureSpec> signatures;
  private final Map<String, SessionFunction> functions;
  private final Map<String, Object> card;
  private final AtomicInteger refs = new AtomicInteger(1);
  private final List<Runnable> closeListeners = new CopyOnWriteArrayList<>();

  ModelVersion(
      String name,
      long version,
      SavedModelBundle bundle,
      Map<String, SignatureSpec> signatures,
      Map<String, Object> card) {
    this.name = name;
    this.version = version;
    this.bundle = bundle;
    // keep the loader's order (serving_default first): Map.copyOf's order changes from run to run
    this.signatures = Collections.unmodifiableMap(new LinkedHashMap<>(signatures));
    this.card = card;
    Map<String, SessionFunction> fns = new LinkedHashMap<>();
    for (String key : signatures.keySet()) {
      fns.put(key, bundle.function(key));
    }
    this.functions = fns;
  }

  public String name() {
    return name;
  }

  public long version() {
    return version;
  }

  /** Servable signatures by key; {@code serving_default} first when present. */
  public Map<String, SignatureSpec> signatures() {
    return signatures;
  }

  /** The model card shipped in {@code assets.extra/model-card.json}, or empty. */
  public Map<String, Object> card() {
    return card;
  }

  /**
   * The signature to use: the named one, else {@code serving_default}, else the only one.
   *
   * @throws ServingException.BadInput when it does not exist (TensorFlow Serving answers 400 with
   *     the same message)
   */
  public SignatureSpec signature(String key) {
    String k = key == null || key.isEmpty() ? ModelLoader.DEFAULT_SIGNATURE : key;
    SignatureSpec spec = signatures.get(k);
    if (spec == null && (key == null || key.isEmpty()) && signatures.size() == 1) {
      spec = signatures.values().iterator().next();
    }
    if (spec == null) {
      throw new ServingException.BadInput(
          "Serving signature name: \"" + k + "\" not found in signature def");
    }
    return spec;
  }

  /**
   * Runs a signature on inputs already conformed to it ({@link SignatureSpec#conform}). Thread
   * safe: TensorFlow sessions take concurrent calls. Called on a virtual thread, the call runs on a
   * platform thread while the caller waits ({@link PlatformCalls}).
   */
  public Map<String, Values> run(SignatureSpec spec, Map<String, Values> inputs) {
    return PlatformCalls.call(() -> runHere(spec, inputs));
  }

  private Map<String, Values> runHere(SignatureSpec spec, Map<String, Values> inputs) {
    List<Tensor> fed = new ArrayList<>(inputs.size());
    try {
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (Map.Entry<String, Values> e : inputs.entrySet()) {
        Tensor t = Tensors.toTensor(e.getValue());
        fed.add(t);
        feed.put(e.getKey(), t);
      }
      try (Result result = functions.get(spec.key()).call(feed)) {
        Map<String, Values> out = new LinkedHashMap<>();
        for (TensorSpec o : spec.outputs().values()) {
          Tensor t =
              result
                  .get(o.name())
                  .orElseThrow(() -> new IllegalStateException("no output " + o.name()));
          out.put(o.name(), Tensors.fromTensor(t, o.dtype()));
        }
        return out;
      }
    } catch (TFInvalidArgumentException e) {
      throw new ServingException.ModelRejected("the model rejected the input: " + firstLine(e), e);
    } catch (TensorFlowException e) {
      throw new ServingException.Internal("the model failed: " + firstLine(e), e);
    } finally {
      for (Tensor t : fed) {
        t.close();
      }
    }
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** Takes a reference for one request; false when the version is already closing. */
  public boolean acquire() {
    while (true) {
      int n = refs.get();
      if (n <= 0) {
        return false;
      }
      if (refs.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /**
   * Gives back a reference taken by {@link #acquire}; the last one closes the model (on a platform
   * thread: freeing the bundle takes the same JavaCPP monitor as a call, {@link PlatformCalls}).
   */
  public void release() {
    if (refs.decrementAndGet() == 0) {
      PlatformCalls.run(this::closeNow);
    }
  }

  /** Called once when the registry drops this version; it closes after in-flight requests. */
  @Override
  public void close() {
    release();
  }

  /** Runs {@code listener} once this version's native resources are freed. */
  public void onClose(Runnable listener) {
    closeListeners.add(listener);
  }

  private void closeNow() {
    log.info("closing model {} version {}", name, version);
    bundle.close();
    for (Runnable r : closeListeners) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("close listener failed for {} v{}", name, version, e);
      }
    }
  }

  @Override
  public String toString() {
    return name + "/" + version;
  }
}
