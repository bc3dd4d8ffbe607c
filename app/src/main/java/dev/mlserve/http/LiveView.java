package dev.mlserve.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.mlserve.metrics.LiveStats;
import dev.mlserve.predict.ModelView;
import dev.mlserve.predict.PredictionService;
import java.io.IOException;
import java.util.Map;

/**
 * {@code GET /ui/live.json}: what the home page refreshes in place: per model its versions, labels
 * and variant weights from the registry, and the last minutes of traffic from {@link LiveStats}.
 * Numbers that do not exist yet (no traffic) are {@code null}.
 */
final class LiveView {
  private final PredictionService predictions;
  private final LiveStats stats;

  LiveView(PredictionService predictions, LiveStats stats) {
    this.predictions = predictions;
    this.stats = stats;
  }

  /** Writes the fields of the answer's object. */
  void write(JsonGenerator g) throws IOException {
    Map<String, LiveStats.ModelLive> live = stats.current();
    g.writeNumberField("window_seconds", LiveStats.WINDOW.toSeconds());
    g.writeArrayFieldStart("models");
    for (String name : predictions.modelNames()) {
      ModelView view = predictions.model(name);
      g.writeStartObject();
      g.writeStringField("name", name);
      g.writeArrayFieldStart("versions");
      for (var s : view.versions()) {
        g.writeStartObject();
        g.writeNumberField("version", s.version());
        g.writeStringField("state", s.state().name());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeObjectFieldStart("labels");
      for (var l : view.labels().entrySet()) {
        g.writeNumberField(l.getKey(), l.getValue());
      }
      g.writeEndObject();
      g.writeArrayFieldStart("variants");
      for (var v : view.variants()) {
        g.writeStartObject();
        g.writeStringField("name", v.name());
        g.writeStringField("model", v.model().orElse(name));
        if (v.version().isPresent()) {
          g.writeNumberField("version", v.version().getAsLong());
        } else {
          g.writeNullField("version");
        }
        g.writeNumberField("weight", v.weight());
        g.writeEndObject();
      }
      g.writeEndArray();
      LiveStats.ModelLive m = live.get(name);
      g.writeObjectFieldStart("traffic");
      if (m != null) {
        number(g, "seconds", m.seconds());
        number(g, "requests_per_second", m.requestsPerSecond());
        number(g, "rows_per_second", m.rowsPerSecond());
        number(g, "p50_ms", m.p50Seconds() * 1000);
        number(g, "p99_ms", m.p99Seconds() * 1000);
        number(g, "low_confidence_share", m.lowConfidenceShare());
        g.writeArrayFieldStart("score_bins");
        for (var b : m.scoreBins().entrySet()) {
          g.writeStartObject();
          g.writeNumberField("le", b.getKey());
          g.writeNumberField("rows", Math.round(b.getValue()));
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  private static void number(JsonGenerator g, String field, double v) throws IOException {
    if (Double.isFinite(v)) {
      g.writeNumberField(field, Math.round(v * 1000) / 1000.0);
    } else {
      g.writeNullField(field);
    }
  }
}
