package dev.mlserve.release;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a model's release stands, as recorded in its serving.json, and the edits each step makes.
 * The controller keeps routing and its own bookkeeping in the one file, so one conditional write
 * moves both together:
 *
 * <pre>{@code
 * "version_policy": "specific:2",          new uploads are not served until released
 * "labels": {"stable": 2, "previous": 1, "candidate": 3, "rejected": 4},
 * "variants": [{"name": "stable", "version": 2, "weight": 90},
 *              {"name": "canary", "version": 3, "weight": 10}],
 * "release": {"phase": "canary", "candidate": 3, "canary_weight": 10, "since": "...",
 *             "gate": {...}, "live": {...}, "history": [{"at": ..., "decision": ...}, ...]}
 * }</pre>
 *
 * Phases: {@code stable} (one variant, nothing in flight), {@code staging} (the candidate is named
 * by a label so every task loads it, but gets no traffic), {@code canary} (a weighted variant).
 * Every other field of serving.json (batching, capture, band) is left as it is.
 */
record ReleaseState(
    String phase,
    OptionalLong stable,
    OptionalLong previous,
    OptionalLong candidate,
    Optional<Instant> since,
    List<JsonNode> history) {

  static final String STABLE = "stable";
  static final String STAGING = "staging";
  static final String CANARY = "canary";
  private static final int HISTORY = 20;

  static ReleaseState of(ObjectNode json) {
    JsonNode labels = json.path("labels");
    JsonNode release = json.path("release");
    List<JsonNode> history = new ArrayList<>();
    release.path("history").forEach(history::add);
    return new ReleaseState(
        release.path("phase").asText(STABLE),
        version(labels.path("stable")),
        version(labels.path("previous")),
        release.path("phase").asText(STABLE).equals(STABLE)
            ? OptionalLong.empty()
            : version(release.path("candidate")),
        release.hasNonNull("since")
            ? Optional.of(Instant.parse(release.get("since").asText()))
            : Optional.empty(),
        List.copyOf(history));
  }

  private static OptionalLong version(JsonNode n) {
    return n.canConvertToLong() && n.asLong() > 0
        ? OptionalLong.of(n.asLong())
        : OptionalLong.empty();
  }

  boolean inFlight() {
    return !phase.equals(STABLE);
  }

  /** Makes {@code version} the stable one with all traffic; new uploads stay unserved. */
  static ObjectNode adopt(ObjectNode current, long version) {
    ObjectNode json = current.deepCopy();
    ObjectNode labels = labels(json);
    labels.put("stable", version);
    labels.remove("candidate");
    route(json, version, OptionalLong.empty(), 0);
    release(json).put("phase", STABLE).remove(List.of("candidate", "canary_weight", "since"));
    return json;
  }

  /** Names the candidate by a label: every task loads it, no request reaches it yet. */
  static ObjectNode stage(ObjectNode current, long candidate, Instant now) {
    ObjectNode json = current.deepCopy();
    labels(json).put("candidate", candidate);
    release(json)
        .put("phase", STAGING)
        .put("candidate", candidate)
        .put("since", now.toString())
        .remove("canary_weight");
    return json;
  }

  /** Gives the candidate {@code weight} percent of the traffic beside stable. */
  static ObjectNode canary(
      ObjectNode current, long stable, long candidate, double weight, Optional<String> sticky) {
    ObjectNode json = current.deepCopy();
    route(json, stable, OptionalLong.of(candidate), weight);
    sticky.ifPresent(h -> json.put("sticky_header", h));
    release(json).put("phase", CANARY).put("canary_weight", weight);
    return json;
  }

  /** Candidate becomes stable with all traffic; the old stable stays loaded as previous. */
  static ObjectNode promote(ObjectNode current, long oldStable, long candidate) {
    ObjectNode json = current.deepCopy();
    ObjectNode labels = labels(json);
    labels.put("stable", candidate);
    labels.put("previous", oldStable);
    labels.remove("candidate");
    route(json, candidate, OptionalLong.empty(), 0);
    ObjectNode release = release(json);
    release.put("phase", STABLE).remove(List.of("candidate", "canary_weight", "since"));
    return json;
  }

  /** All traffic back to {@code stable}; {@code rejected} labelled so nobody mistakes it. */
  static ObjectNode rollBack(ObjectNode current, long stable, long rejected) {
    ObjectNode json = current.deepCopy();
    ObjectNode labels = labels(json);
    labels.put("stable", stable);
    labels.put("rejected", rejected);
    labels.remove("candidate");
    if (labels.path("previous").asLong() == stable) {
      labels.remove("previous");
    }
    route(json, stable, OptionalLong.empty(), 0);
    release(json).put("phase", STABLE).remove(List.of("candidate", "canary_weight", "since"));
    return json;
  }

  /** Appends a decision to the history (the last 20 are kept; bucket versioning keeps all). */
  static ObjectNode record(ObjectNode json, ObjectNode decision) {
    ArrayNode history = release(json).withArray("history");
    history.add(decision);
    while (history.size() > HISTORY) {
      history.remove(0);
    }
    return json;
  }

  private static void route(ObjectNode json, long stable, OptionalLong canary, double weight) {
    json.put("version_policy", "specific:" + stable);
    ArrayNode variants = json.putArray("variants");
    variants
        .addObject()
        .put("name", "stable")
        .put("version", stable)
        .put("weight", canary.isPresent() ? 100 - weight : 100);
    if (canary.isPresent()) {
      variants
          .addObject()
          .put("name", "canary")
          .put("version", canary.getAsLong())
          .put("weight", weight);
    }
  }

  static ObjectNode labels(ObjectNode json) {
    return json.path("labels").isObject()
        ? (ObjectNode) json.get("labels")
        : json.putObject("labels");
  }

  static ObjectNode release(ObjectNode json) {
    return json.path("release").isObject()
        ? (ObjectNode) json.get("release")
        : json.putObject("release");
  }
}
