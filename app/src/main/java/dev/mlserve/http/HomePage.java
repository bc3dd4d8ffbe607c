package dev.mlserve.http;

import dev.mlserve.model.ModelRegistry;
import dev.mlserve.model.ModelSettings;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.TensorSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;

/**
 * The page at {@code /}: every endpoint, every model with its versions, signatures, labels and
 * variants, and a form to try a text. Rendered on the server from the live registry; the form's
 * script calls the TensorFlow Serving endpoint like any client would.
 */
final class HomePage {
  private final ModelRegistry registry;
  private final String template;

  HomePage(ModelRegistry registry) {
    this.registry = registry;
    try (InputStream in = HomePage.class.getResourceAsStream("/home.html")) {
      this.template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new UncheckedIOException(new IOException("home.html missing from the classpath", e));
    }
  }

  String render() {
    StringBuilder models = new StringBuilder();
    StringBuilder options = new StringBuilder();
    for (String name : registry.modelNames()) {
      List<Long> live = registry.liveVersions(name);
      models.append("<section class=\"model\" data-model=\"").append(esc(name)).append("\">");
      models.append("<h3>").append(esc(name)).append("</h3>");
      models.append("<p>Versions: ");
      for (var s : registry.status(name)) {
        models
            .append("<span class=\"version ")
            .append(s.state().name().toLowerCase())
            .append("\" title=\"")
            .append(esc(s.error().orElse(s.state().name())))
            .append("\">v")
            .append(s.version())
            .append(" ")
            .append(s.state().name())
            .append("</span> ");
      }
      models.append("</p>");
      ModelSettings settings = registry.settings(name);
      if (!settings.labels().isEmpty()) {
        models.append("<p>Labels: ");
        settings
            .labels()
            .forEach((l, v) -> models.append(esc(l)).append(" → v").append(v).append(" "));
        models.append("</p>");
      }
      if (!settings.variants().isEmpty()) {
        models.append("<p>Variants: ");
        for (var v : settings.variants()) {
          models
              .append(esc(v.name()))
              .append(" (")
              .append(esc(v.model().orElse(name)))
              .append(v.version().isPresent() ? " v" + v.version().getAsLong() : " latest")
              .append(", weight ")
              .append(v.weight())
              .append(") ");
        }
        models.append("</p>");
      }
      if (!live.isEmpty()) {
        ModelVersion mv = registry.acquire(name, OptionalLong.of(live.get(0)));
        try {
          models.append("<table><tr><th>signature</th><th>inputs</th><th>outputs</th></tr>");
          for (SignatureSpec s : mv.signatures().values()) {
            models.append("<tr><td>").append(esc(s.key())).append("</td><td>");
            s.inputs().values().forEach(t -> models.append(describe(t)).append("<br>"));
            models.append("</td><td>");
            s.outputs().values().forEach(t -> models.append(describe(t)).append("<br>"));
            models.append("</td></tr>");
          }
          models.append("</table>");
          SignatureSpec def = mv.signature("");
          if (def.soleInputName() != null
              && def.inputs().values().iterator().next().dtype()
                  == dev.mlserve.model.DType.STRING) {
            options
                .append("<option value=\"")
                .append(esc(name))
                .append("\">")
                .append(esc(name))
                .append("</option>");
          }
        } finally {
          mv.release();
        }
      }
      models.append("</section>");
    }
    if (models.length() == 0) {
      models.append("<p>No models loaded yet.</p>");
    }
    return template
        .replace("{{models}}", models.toString())
        .replace("{{model_options}}", options.toString());
  }

  private static String describe(TensorSpec t) {
    return esc(t.name()) + " <code>" + esc(t.dtype().tfName()) + " " + esc(shape(t)) + "</code>";
  }

  private static String shape(TensorSpec t) {
    if (t.shape() == null) {
      return "[?]";
    }
    return java.util.Arrays.toString(t.shape()).replace("-1", "?");
  }

  static String esc(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
