package dev.mlserve.http;

import dev.mlserve.errors.ServingException;
import dev.mlserve.model.DType;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.TensorSpec;
import dev.mlserve.predict.ModelView;
import dev.mlserve.predict.PredictionService;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The page at {@code /}: every endpoint, every model with its versions, signatures, labels and
 * variants, and a form to try a text. Rendered on the server from the read-only model view; the
 * form's script calls the TensorFlow Serving endpoint like any client would.
 */
final class HomePage {
  private final PredictionService predictions;
  private final String template;

  HomePage(PredictionService predictions) {
    this.predictions = predictions;
    try (InputStream in = HomePage.class.getResourceAsStream("/home.html")) {
      this.template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new UncheckedIOException(new IOException("home.html missing from the classpath", e));
    }
  }

  String render() {
    StringBuilder models = new StringBuilder();
    StringBuilder options = new StringBuilder();
    for (String name : predictions.modelNames()) {
      ModelView view;
      try {
        view = predictions.model(name);
      } catch (ServingException e) {
        continue; // gone since the names were read
      }
      models.append("<section class=\"model\" data-model=\"").append(esc(name)).append("\">");
      models.append("<h3>").append(esc(name)).append("</h3>");
      models.append("<p>Versions: ");
      for (var s : view.versions()) {
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
      if (!view.labels().isEmpty()) {
        models.append("<p>Labels: ");
        view.labels().forEach((l, v) -> models.append(esc(l)).append(" → v").append(v).append(" "));
        models.append("</p>");
      }
      if (!view.variants().isEmpty()) {
        models.append("<p>Variants: ");
        for (var v : view.variants()) {
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
      if (!view.live().isEmpty()) {
        ModelView.Version mv;
        try {
          mv = predictions.describe(name, OptionalLong.of(view.live().get(0)), Optional.empty());
        } catch (ServingException e) {
          mv = null; // unloaded since the view was taken
        }
        if (mv != null) {
          models.append("<table><tr><th>signature</th><th>inputs</th><th>outputs</th></tr>");
          for (SignatureSpec s : mv.signatures().values()) {
            models.append("<tr><td>").append(esc(s.key())).append("</td><td>");
            s.inputs().values().forEach(t -> models.append(describe(t)).append("<br>"));
            models.append("</td><td>");
            s.outputs().values().forEach(t -> models.append(describe(t)).append("<br>"));
            models.append("</td></tr>");
          }
          models.append("</table>");
          SignatureSpec def = mv.defaultSignature();
          if (def.soleInputName() != null
              && def.inputs().values().iterator().next().dtype() == DType.STRING) {
            options
                .append("<option value=\"")
                .append(esc(name))
                .append("\">")
                .append(esc(name))
                .append("</option>");
          }
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
