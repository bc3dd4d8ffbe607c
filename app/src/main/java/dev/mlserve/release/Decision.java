package dev.mlserve.release;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One decision of the controller: what happened to which versions, why, and the table of numbers
 * behind it. It is what serving.json's history, the SNS notice, the job summary and the exit status
 * are made from.
 *
 * @param kind {@code refused} (gate), {@code promoted}, {@code rolled_back}, {@code adopted}
 * @param by {@code auto} (judged by the controller) or {@code manual}
 * @param rule the rule that decided, in words
 */
record Decision(
    Instant at,
    String model,
    String kind,
    String by,
    Optional<Long> stable,
    Optional<Long> candidate,
    String rule,
    List<Check> gate,
    List<Check> live) {

  /**
   * Exit status: 0 promoted/adopted/manual, 3 refused by the gate, 4 rolled back by judgement, 5
   * halted by a concurrent edit of serving.json.
   */
  int exitCode() {
    return switch (kind) {
      case "refused" -> 3;
      case "halted" -> 5;
      case "rolled_back" -> by.equals("auto") ? 4 : 0;
      default -> 0;
    };
  }

  ObjectNode toJson() {
    ObjectNode n = ServingFile.JSON.createObjectNode();
    n.put("at", at.toString());
    n.put("decision", kind);
    n.put("by", by);
    stable.ifPresent(v -> n.put("stable", v));
    candidate.ifPresent(v -> n.put("candidate", v));
    n.put("rule", rule);
    for (String section : List.of("gate", "live")) {
      List<Check> checks = section.equals("gate") ? gate : live;
      if (!checks.isEmpty()) {
        var arr = n.putArray(section);
        for (Check c : checks) {
          arr.addObject()
              .put("metric", c.metric())
              .put("candidate", c.candidate())
              .put("stable", c.stable())
              .put("rule", c.rule())
              .put("passed", c.passed());
        }
      }
    }
    return n;
  }

  /** The Markdown the job summary and the notice show. */
  String markdown(Optional<String> runUrl) {
    StringBuilder b = new StringBuilder();
    b.append("### Release of ")
        .append(model)
        .append(": ")
        .append(kind.replace('_', ' '))
        .append(" (")
        .append(by)
        .append(")\n\n");
    b.append("- stable: ").append(stable.map(String::valueOf).orElse("-")).append('\n');
    b.append("- candidate: ").append(candidate.map(String::valueOf).orElse("-")).append('\n');
    b.append("- decided by: ").append(rule).append('\n');
    b.append("- at: ").append(at).append('\n');
    runUrl.ifPresent(u -> b.append("- run: ").append(u).append('\n'));
    table(b, "Evaluation gate (held-out set)", gate);
    table(b, "Live judgement (all tasks)", live);
    return b.toString();
  }

  private static void table(StringBuilder b, String title, List<Check> checks) {
    if (checks.isEmpty()) {
      return;
    }
    b.append("\n#### ").append(title).append("\n\n");
    b.append("| metric | candidate | stable | rule | result |\n|---|---|---|---|---|\n");
    for (Check c : checks) {
      b.append("| ")
          .append(c.metric())
          .append(" | ")
          .append(c.candidate())
          .append(" | ")
          .append(c.stable())
          .append(" | ")
          .append(c.rule().replace("|", "\\|"))
          .append(" | ")
          .append(c.passed() ? "pass" : "**FAIL**")
          .append(" |\n");
    }
  }
}
