package dev.mlserve.release;

import dev.mlserve.model.ModelLoader;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.Values;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Scores the held-out set with a version loaded by the service's own code ({@link ModelLoader},
 * {@link SignatureSpec#conform}, {@link ModelVersion#run}): what is measured here is what the
 * service would answer, TensorFlow Java runtime included.
 */
final class Evaluator {
  private static final int BATCH = 256;

  /** Rows scored one at a time and again as one batch: a served score must not depend on them. */
  static final int BATCH_CHECK_ROWS = 32;

  private Evaluator() {}

  static OfflineMetrics evaluate(String model, long version, Path dir, EvalSet set, double[] band) {
    try (ModelVersion mv = ModelLoader.load(model, version, dir)) {
      SignatureSpec spec = mv.signature(null);
      if (spec.inputs().size() != 1 || spec.outputs().size() != 1) {
        throw new IllegalArgumentException(
            model
                + " v"
                + version
                + ": the gate scores one text input to one score; signature "
                + spec.key()
                + " has inputs "
                + spec.inputs().keySet()
                + " and outputs "
                + spec.outputs().keySet());
      }
      List<String> texts = set.texts();
      float[] scores = new float[texts.size()];
      for (int from = 0; from < texts.size(); from += BATCH) {
        float[] part = score(mv, spec, texts.subList(from, Math.min(texts.size(), from + BATCH)));
        System.arraycopy(part, 0, scores, from, part.length);
      }
      int k = Math.min(BATCH_CHECK_ROWS, texts.size());
      float[] together = score(mv, spec, texts.subList(0, k));
      double maxDiff = 0;
      for (int i = 0; i < k; i++) {
        float alone = score(mv, spec, texts.subList(i, i + 1))[0];
        maxDiff = Math.max(maxDiff, Math.abs(alone - together[i]));
      }
      return OfflineMetrics.of(scores, set.labels(), band, maxDiff);
    }
  }

  private static float[] score(ModelVersion mv, SignatureSpec spec, List<String> texts) {
    byte[][] data = new byte[texts.size()][];
    for (int i = 0; i < data.length; i++) {
      data[i] = texts.get(i).getBytes(StandardCharsets.UTF_8);
    }
    Map<String, Values> inputs =
        spec.conform(Map.of(spec.soleInputName(), Values.strings(new long[] {data.length}, data)));
    Values out = mv.run(spec, inputs).values().iterator().next();
    if (out.size() != data.length) {
      throw new IllegalArgumentException(
          mv + ": expected one score per text, got " + out.size() + " values for " + data.length);
    }
    float[] scores = new float[data.length];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = (float) out.number(i);
    }
    return scores;
  }
}
