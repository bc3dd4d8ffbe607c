package dev.mlserve.model;

import dev.mlserve.errors.ServingException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models being served: for each name its live versions, the state of every version it has seen
 * (as TensorFlow Serving reports them). Swapping a version is atomic for readers: a request holds
 * the version it acquired until it releases it, and a replaced version closes after its last
 * request.
 */
public final class ModelRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelRegistry.class);

  /** Version states, named as in TensorFlow Serving's GetModelStatus. */
  public enum State {
    START,
    LOADING,
    AVAILABLE,
    UNLOADING,
    END
  }

  /** One version's state, with the error that ended it, if any. */
  public record VersionStatus(long version, State state, Optional<String> error) {}

  private static final class Slot {
    volatile NavigableMap<Long, ModelVersion> live = Collections.emptyNavigableMap();
    final Map<Long, VersionStatus> status = new ConcurrentSkipListMap<>();
  }

  private final Map<String, Slot> slots = new ConcurrentHashMap<>();

  private Slot slot(String name) {
    return slots.computeIfAbsent(name, n -> new Slot());
  }

  /** Names of every model that has or had a version. */
  public SortedSet<String> modelNames() {
    return new TreeSet<>(slots.keySet());
  }

  /** The live versions of {@code name}, highest first. */
  public List<Long> liveVersions(String name) {
    Slot s = slots.get(name);
    return s == null ? List.of() : new ArrayList<>(s.live.descendingKeySet());
  }

  /** Every version's status, lowest first. */
  public List<VersionStatus> status(String name) {
    Slot s = slots.get(name);
    return s == null ? List.of() : List.copyOf(s.status.values());
  }

  public void markLoading(String name, long version) {
    slot(name).status.put(version, new VersionStatus(version, State.LOADING, Optional.empty()));
  }

  /** Records that a version could not be loaded; a version already live keeps serving. */
  public void markFailed(String name, long version, String error) {
    Slot s = slot(name);
    if (!s.live.containsKey(version)) {
      s.status.put(version, new VersionStatus(version, State.END, Optional.of(error)));
    }
  }

  /** Makes {@code mv} live, replacing (and later closing) a live copy of the same version. */
  public void install(ModelVersion mv) {
    Slot s = slot(mv.name());
    ModelVersion old;
    synchronized (s) {
      TreeMap<Long, ModelVersion> next = new TreeMap<>(s.live);
      old = next.put(mv.version(), mv);
      s.live = Collections.unmodifiableNavigableMap(next);
      s.status.put(
          mv.version(), new VersionStatus(mv.version(), State.AVAILABLE, Optional.empty()));
    }
    log.info("model {} version {} is live", mv.name(), mv.version());
    if (old != null) {
      old.close();
    }
  }

  /** Takes a version out of service; it closes once its in-flight requests finish. */
  public void unload(String name, long version) {
    Slot s = slots.get(name);
    if (s == null) {
      return;
    }
    ModelVersion old;
    synchronized (s) {
      TreeMap<Long, ModelVersion> next = new TreeMap<>(s.live);
      old = next.remove(version);
      s.live = Collections.unmodifiableNavigableMap(next);
      if (old != null) {
        s.status.put(version, new VersionStatus(version, State.END, Optional.empty()));
      }
    }
    if (old != null) {
      log.info("model {} version {} unloaded", name, version);
      old.close();
    }
  }

  /**
   * Acquires {@code version} of {@code name} (its latest when empty) for one request; the caller
   * must {@link ModelVersion#release} it.
   *
   * @throws ServingException.NotFound for an unknown model or version
   * @throws ServingException.Unavailable while it is loading or before any version is live
   */
  public ModelVersion acquire(String name, OptionalLong version) {
    Slot s = slots.get(name);
    if (s == null) {
      throw new ServingException.NotFound("model '" + name + "' is not served here");
    }
    while (true) {
      NavigableMap<Long, ModelVersion> live = s.live;
      ModelVersion mv;
      if (version.isPresent()) {
        mv = live.get(version.getAsLong());
        if (mv == null) {
          VersionStatus st = s.status.get(version.getAsLong());
          if (st != null && st.state() == State.LOADING) {
            throw new ServingException.Unavailable(
                "model '" + name + "' version " + version.getAsLong() + " is still loading");
          }
          throw new ServingException.NotFound(
              "model '"
                  + name
                  + "' has no version "
                  + version.getAsLong()
                  + "; live: "
                  + live.keySet());
        }
      } else {
        Map.Entry<Long, ModelVersion> e = live.lastEntry();
        if (e == null) {
          throw new ServingException.Unavailable("model '" + name + "' has no version loaded yet");
        }
        mv = e.getValue();
      }
      if (mv.acquire()) {
        return mv;
      }
      // lost a race with a swap: the map has been replaced, read it again
    }
  }

  @Override
  public void close() {
    for (String name : slots.keySet()) {
      for (Long v : liveVersions(name)) {
        unload(name, v);
      }
    }
  }
}
