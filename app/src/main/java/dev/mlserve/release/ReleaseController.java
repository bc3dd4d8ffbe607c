package dev.mlserve.release;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserve.release.ServingFile.Snapshot;
import dev.mlserve.store.ModelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases a model version safely: offline gate on the held-out set, staging (every task loads the
 * candidate), a weighted canary beside stable, a bake time judged on metrics aggregated over every
 * task, then promotion or rollback — each step one conditional write of serving.json, the file
 * every task already polls. Manual promote, rollback and status work on the same file, so a release
 * interrupted at any step is explained by {@link #status} and undone by {@link #rollback}.
 */
final class ReleaseController {
  private static final Logger log = LoggerFactory.getLogger(ReleaseController.class);
  private static final double[] DEFAULT_BAND = {0.4, 0.6};

  private final ServingFile serving;
  private final ModelSource source;
  private final Optional<LiveJudge> live;
  private final Notifier notifier;
  private final Clock clock;

  ReleaseController(
      ServingFile serving,
      ModelSource source,
      Optional<LiveJudge> live,
      Notifier notifier,
      Clock clock) {
    this.serving = serving;
    this.source = source;
    this.live = live;
    this.notifier = notifier;
    this.clock = clock;
  }

  /** How {@link #start} runs its canary. */
  record CanaryPlan(
      double weightPercent,
      Duration bake,
      OptionalDouble minRequests,
      Optional<String> stickyHeader,
      Duration stageTimeout,
      Duration pollInterval) {}

  /** The gate's verdict and the numbers behind it. */
  record GateResult(OfflineMetrics candidate, Optional<OfflineMetrics> stable, List<Check> checks) {
    boolean passed() {
      return checks.stream().allMatch(Check::passed);
    }

    String failedRules() {
      return checks.stream()
          .filter(c -> !c.passed())
          .map(c -> c.metric() + " " + c.candidate() + " (rule " + c.rule() + ")")
          .reduce((a, b) -> a + "; " + b)
          .orElse("all rules passed");
    }
  }

  /** Makes {@code version} the stable one: the starting point of every release. */
  Decision adopt(String model, long version) throws IOException {
    Snapshot snap = serving.read(model);
    ReleaseState state = ReleaseState.of(snap.json());
    refuseIfInFlight(model, state);
    requireVersion(model, version);
    Decision d =
        decision(
            model,
            "adopted",
            "manual",
            Optional.of(version),
            Optional.empty(),
            "adopted as stable by hand",
            List.of(),
            List.of());
    write(model, ReleaseState.adopt(snap.json(), version), snap, d);
    return d;
  }

  /** Runs the offline gate only; changes nothing. */
  GateResult evaluate(String model, long candidate) throws IOException {
    Snapshot snap = serving.read(model);
    return gate(model, candidate, snap.json(), ReleaseState.of(snap.json()));
  }

  /** Gate, stage, canary, bake, decide. */
  Decision start(String model, long candidate, CanaryPlan plan)
      throws IOException, InterruptedException {
    if (!(plan.weightPercent() > 0 && plan.weightPercent() <= 50)) {
      throw new IllegalArgumentException("the canary weight must be within (0, 50] percent");
    }
    Snapshot snap = serving.read(model);
    ReleaseState state = ReleaseState.of(snap.json());
    refuseIfInFlight(model, state);
    long stable =
        state
            .stable()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        model
                            + " has no stable label in "
                            + serving.uri(model)
                            + ": run `release adopt --model "
                            + model
                            + " --version N` first"));
    if (stable == candidate) {
      throw new IllegalArgumentException("version " + candidate + " is already stable");
    }
    requireVersion(model, candidate);
    LiveJudge judge =
        live.orElseThrow(
            () -> new IllegalStateException("PROMETHEUS_URL is needed to judge a canary"));
    Rules liveRules = Rules.live(ReleaseState.release(snap.json().deepCopy()).path("live"));
    if (plan.minRequests().isPresent()) {
      liveRules = liveRules.with("min_requests", plan.minRequests().getAsDouble());
    }

    GateResult g = gate(model, candidate, snap.json(), state);
    log.info("gate for {} v{} vs v{}: {}", model, candidate, stable, g.failedRules());
    if (!g.passed()) {
      Decision d =
          decision(
              model,
              "refused",
              "auto",
              Optional.of(stable),
              Optional.of(candidate),
              "evaluation gate: " + g.failedRules(),
              g.checks(),
              List.of());
      // Only recorded: a refused candidate is not labelled, so no task ever loads it.
      write(model, snap.json().deepCopy(), snap, d);
      return d;
    }

    snap = serving.write(model, ReleaseState.stage(snap.json(), candidate, clock.instant()), snap);
    log.info("staged {} v{}: waiting for every task to load it", model, candidate);
    Instant stageDeadline = clock.instant().plus(plan.stageTimeout());
    LiveJudge.Loaded loaded = judge.loaded(model, candidate, clock.instant());
    while (!loaded.everywhere()
        && loaded.failed().isEmpty()
        && clock.instant().isBefore(stageDeadline)) {
      Thread.sleep(plan.pollInterval().toMillis());
      loaded = judge.loaded(model, candidate, clock.instant());
    }
    if (!loaded.everywhere()) {
      String why =
          loaded.failed().isEmpty()
              ? "not loaded on every task within "
                  + plan.stageTimeout().toSeconds()
                  + " s (tasks "
                  + loaded.tasks()
                  + ", loaded on "
                  + loaded.loaded()
                  + ")"
              : "failed to load on " + loaded.failed();
      return finish(
          model,
          snap,
          stable,
          candidate,
          false,
          "staging: candidate " + why,
          g.checks(),
          List.of());
    }
    log.info(
        "{} v{} loaded on {} task(s): {}", model, candidate, loaded.tasks().size(), loaded.tasks());

    snap =
        serving.write(
            model,
            ReleaseState.canary(
                snap.json(), stable, candidate, plan.weightPercent(), plan.stickyHeader()),
            snap);
    Instant from = clock.instant();
    log.info(
        "canary {} v{} at {}% beside stable v{}; baking {} s",
        model, candidate, plan.weightPercent(), stable, plan.bake().toSeconds());
    Map<String, Long> variants = new LinkedHashMap<>();
    variants.put("stable", stable);
    variants.put("canary", candidate);
    Instant bakeEnd = from.plus(plan.bake());
    Instant giveUp = from.plus(plan.bake().multipliedBy(3));
    while (true) {
      Thread.sleep(plan.pollInterval().toMillis());
      Instant now = clock.instant();
      Map<String, LiveMetrics> m = judge.measure(model, variants, from, now);
      LiveMetrics c = m.get("canary");
      LiveMetrics s = m.get("stable");
      List<Check> checks = LiveJudge.judge(c, s, liveRules);
      Check traffic = checks.get(0);
      Check errors = checks.get(1);
      log.info(
          "bake {} s: canary {} requests, error rate {}; stable {} requests, error rate {}",
          Duration.between(from, now).toSeconds(),
          String.format("%.0f", c.requests()),
          Check.num(c.errorRate()),
          String.format("%.0f", s.requests()),
          Check.num(s.errorRate()));
      if (c.requests() >= liveRules.get("min_requests") && !errors.passed()) {
        return finish(
            model,
            snap,
            stable,
            candidate,
            false,
            "live: "
                + errors.metric()
                + " "
                + errors.candidate()
                + " vs stable "
                + errors.stable()
                + " (rule "
                + errors.rule()
                + "), judged early",
            g.checks(),
            checks);
      }
      if (now.isBefore(bakeEnd)) {
        continue;
      }
      if (!traffic.passed()) {
        if (now.isBefore(giveUp)) {
          continue;
        }
        return finish(
            model,
            snap,
            stable,
            candidate,
            false,
            "live: too little traffic to judge after "
                + Duration.between(from, now).toSeconds()
                + " s ("
                + traffic.candidate()
                + " canary / "
                + traffic.stable()
                + " stable requests, rule "
                + traffic.rule()
                + ")",
            g.checks(),
            checks);
      }
      List<Check> failed = checks.stream().filter(x -> !x.passed()).toList();
      if (failed.isEmpty()) {
        return finish(
            model,
            snap,
            stable,
            candidate,
            true,
            "every gate and live rule passed over "
                + Duration.between(from, now).toSeconds()
                + " s",
            g.checks(),
            checks);
      }
      Check f = failed.get(0);
      return finish(
          model,
          snap,
          stable,
          candidate,
          false,
          "live: "
              + f.metric()
              + " "
              + f.candidate()
              + " vs stable "
              + f.stable()
              + " (rule "
              + f.rule()
              + ")",
          g.checks(),
          checks);
    }
  }

  /** Manual promotion of the candidate in flight. */
  Decision promote(String model, String reason) throws IOException {
    Snapshot snap = serving.read(model);
    ReleaseState state = ReleaseState.of(snap.json());
    if (!state.inFlight() || state.candidate().isEmpty() || state.stable().isEmpty()) {
      throw new IllegalStateException(model + ": no release in flight, nothing to promote");
    }
    return finishManual(
        model, snap, state.stable().getAsLong(), state.candidate().getAsLong(), true, reason);
  }

  /**
   * Manual rollback: a release in flight goes back to its stable version; otherwise stable goes
   * back to the previous version (kept loaded for exactly this).
   */
  Decision rollback(String model, String reason) throws IOException {
    Snapshot snap = serving.read(model);
    ReleaseState state = ReleaseState.of(snap.json());
    if (state.inFlight() && state.candidate().isPresent() && state.stable().isPresent()) {
      return finishManual(
          model, snap, state.stable().getAsLong(), state.candidate().getAsLong(), false, reason);
    }
    if (state.stable().isEmpty() || state.previous().isEmpty()) {
      throw new IllegalStateException(
          model + ": nothing to roll back to (no release in flight and no previous version)");
    }
    long back = state.previous().getAsLong();
    long bad = state.stable().getAsLong();
    Decision d =
        decision(
            model,
            "rolled_back",
            "manual",
            Optional.of(back),
            Optional.of(bad),
            "manual rollback of stable v" + bad + " to previous v" + back + ": " + reason,
            List.of(),
            List.of());
    write(model, ReleaseState.rollBack(snap.json(), back, bad), snap, d);
    return d;
  }

  /** Labels, weights, the release in flight (with what to do about it) and the last decisions. */
  String status(String model) throws IOException {
    Snapshot snap = serving.read(model);
    ObjectNode json = snap.json();
    ReleaseState state = ReleaseState.of(json);
    StringBuilder b = new StringBuilder();
    b.append(model)
        .append(" (")
        .append(serving.uri(model))
        .append(", ETag ")
        .append(snap.etag().orElse("none: no serving.json"))
        .append(")\n");
    b.append("  labels:   ").append(json.path("labels")).append('\n');
    b.append("  variants: ");
    for (JsonNode v : json.path("variants")) {
      b.append(v.path("name").asText())
          .append(" v")
          .append(v.path("version").asText())
          .append(' ')
          .append(v.path("weight").asDouble())
          .append("%  ");
    }
    b.append('\n');
    b.append("  phase:    ").append(state.phase());
    if (state.inFlight()) {
      b.append(" of v")
          .append(state.candidate().isPresent() ? state.candidate().getAsLong() : "?")
          .append(" since ")
          .append(state.since().map(Instant::toString).orElse("?"))
          .append("\n  a release is in flight. If no controller is running it any more (its job ")
          .append("was cancelled or died), finish it by hand: `release rollback --model ")
          .append(model)
          .append("` (back to v")
          .append(state.stable().isPresent() ? state.stable().getAsLong() : "?")
          .append(") or `release promote --model ")
          .append(model)
          .append('`');
    }
    b.append('\n');
    List<JsonNode> h = state.history();
    b.append("  last decisions:\n");
    for (JsonNode d : h.subList(Math.max(0, h.size() - 5), h.size())) {
      b.append("    ")
          .append(d.path("at").asText())
          .append("  ")
          .append(d.path("decision").asText())
          .append(" (")
          .append(d.path("by").asText())
          .append(")  stable ")
          .append(d.path("stable").asText("-"))
          .append(" candidate ")
          .append(d.path("candidate").asText("-"))
          .append(": ")
          .append(d.path("rule").asText())
          .append('\n');
    }
    if (h.isEmpty()) {
      b.append("    none\n");
    }
    return b.toString();
  }

  private GateResult gate(String model, long candidate, ObjectNode json, ReleaseState state)
      throws IOException {
    Rules rules = Rules.gate(json.path("release").path("gate"));
    double[] band = band(json);
    Path cdir = source.materialize(model, candidate);
    EvalSet set = EvalSet.read(cdir);
    log.info("evaluating {} v{} on {} held-out rows", model, candidate, set.texts().size());
    OfflineMetrics c = Evaluator.evaluate(model, candidate, cdir, set, band);
    Optional<OfflineMetrics> s = Optional.empty();
    if (state.stable().isPresent() && state.stable().getAsLong() != candidate) {
      long sv = state.stable().getAsLong();
      s = Optional.of(Evaluator.evaluate(model, sv, source.materialize(model, sv), set, band));
    }
    return new GateResult(c, s, Gate.judge(c, s, cardAccuracy(cdir), rules));
  }

  private static OptionalDouble cardAccuracy(Path dir) {
    Path card = dir.resolve("assets.extra").resolve("model-card.json");
    if (!Files.isRegularFile(card)) {
      return OptionalDouble.empty();
    }
    try {
      JsonNode acc = ServingFile.JSON.readTree(card.toFile()).at("/metrics/test/accuracy");
      return acc.isNumber() ? OptionalDouble.of(acc.asDouble()) : OptionalDouble.empty();
    } catch (IOException e) {
      log.warn("unreadable model card {}: {}", card, e.toString());
      return OptionalDouble.empty();
    }
  }

  private static double[] band(ObjectNode json) {
    JsonNode b = json.path("low_confidence_band");
    return b.isArray() && b.size() == 2
        ? new double[] {b.get(0).asDouble(), b.get(1).asDouble()}
        : DEFAULT_BAND;
  }

  private Decision finish(
      String model,
      Snapshot snap,
      long stable,
      long candidate,
      boolean promote,
      String rule,
      List<Check> gate,
      List<Check> liveChecks) {
    return finish(model, snap, stable, candidate, promote, rule, "auto", gate, liveChecks);
  }

  private Decision finish(
      String model,
      Snapshot snap,
      long stable,
      long candidate,
      boolean promote,
      String rule,
      String by,
      List<Check> gate,
      List<Check> liveChecks) {
    Decision d =
        decision(
            model,
            promote ? "promoted" : "rolled_back",
            by,
            Optional.of(stable),
            Optional.of(candidate),
            rule,
            gate,
            liveChecks);
    try {
      write(
          model,
          promote
              ? ReleaseState.promote(snap.json(), stable, candidate)
              : ReleaseState.rollBack(snap.json(), stable, candidate),
          snap,
          d);
    } catch (ServingFile.ConcurrentEditException e) {
      // Someone edited serving.json meanwhile: their edit wins, nothing is overwritten.
      Decision halted =
          decision(
              model,
              "halted",
              by,
              Optional.of(stable),
              Optional.of(candidate),
              "would have "
                  + (promote ? "promoted" : "rolled back")
                  + " ("
                  + rule
                  + ") but "
                  + e.getMessage(),
              gate,
              liveChecks);
      notifier.announce(halted, serving.uri(model));
      throw e;
    }
    return d;
  }

  private Decision finishManual(
      String model, Snapshot snap, long stable, long candidate, boolean promote, String reason) {
    return finish(
        model,
        snap,
        stable,
        candidate,
        promote,
        "manual: " + reason,
        "manual",
        List.of(),
        List.of());
  }

  /** Records the decision in serving.json (conditionally), then tells people. */
  private void write(String model, ObjectNode json, Snapshot readWith, Decision d) {
    serving.write(model, ReleaseState.record(json, d.toJson()), readWith);
    log.info("{}: {} ({}) — {}", model, d.kind(), d.by(), d.rule());
    notifier.announce(d, serving.uri(model));
  }

  private Decision decision(
      String model,
      String kind,
      String by,
      Optional<Long> stable,
      Optional<Long> candidate,
      String rule,
      List<Check> gate,
      List<Check> liveChecks) {
    return new Decision(
        clock.instant(),
        model,
        kind,
        by,
        stable,
        candidate,
        rule,
        new ArrayList<>(gate),
        new ArrayList<>(liveChecks));
  }

  private void refuseIfInFlight(String model, ReleaseState state) {
    if (state.inFlight()) {
      throw new IllegalStateException(
          model
              + ": a release of v"
              + (state.candidate().isPresent() ? state.candidate().getAsLong() : "?")
              + " is in phase "
              + state.phase()
              + " since "
              + state.since().map(Instant::toString).orElse("?")
              + "; see `release status`, finish it with `release promote` or `release rollback`");
    }
  }

  private void requireVersion(String model, long version) throws IOException {
    if (!source.versions(model).contains(version)) {
      throw new IllegalArgumentException(
          model + " has no complete version " + version + " in " + source.describe());
    }
  }
}
