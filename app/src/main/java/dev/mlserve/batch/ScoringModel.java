package dev.mlserve.batch;

import dev.mlserve.errors.ServingException;
import dev.mlserve.model.DType;
import dev.mlserve.model.ModelLoader;
import dev.mlserve.model.ModelVersion;
import dev.mlserve.model.SignatureSpec;
import dev.mlserve.model.TensorSpec;
import dev.mlserve.model.Values;
import dev.mlserve.store.ModelSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The model a job scores with, loaded by the service's own code ({@link ModelSource#materialize},
 * {@link ModelLoader#load}) and called as the service's batch workers call it ({@link
 * SignatureSpec#conform}, {@link ModelVersion#run}). It takes a signature with one string input and
 * one numeric output: one score per row ({@code [-1]} or {@code [-1, 1]}) or one per class.
 */
final class ScoringModel implements AutoCloseable {
  private final ModelChoice choice;
  private final ModelVersion version;
  private final SignatureSpec signature;
  private final String input;
  private final String output;

  private ScoringModel(ModelChoice choice, ModelVersion version, SignatureSpec signature) {
    this.choice = choice;
    this.version = version;
    this.signature = signature;
    this.input = signature.soleInputName();
    this.output = signature.outputs().keySet().iterator().next();
  }

  static ScoringModel load(ModelSource source, ModelChoice choice, String signatureKey)
      throws IOException {
    Path dir = source.materialize(choice.model(), choice.version());
    ModelVersion mv = ModelLoader.load(choice.model(), choice.version(), dir);
    try {
      SignatureSpec spec = mv.signature(signatureKey);
      String in = spec.soleInputName();
      if (in == null || spec.inputs().get(in).dtype() != DType.STRING) {
        throw new IOException(
            "signature '" + spec.key() + "' must have exactly one string input: " + spec.inputs());
      }
      if (spec.outputs().size() != 1 || !spec.batchable()) {
        throw new IOException(
            "signature '"
                + spec.key()
                + "' must have one output with a row dimension: "
                + spec.outputs());
      }
      TensorSpec out = spec.outputs().values().iterator().next();
      if (out.dtype() == DType.STRING || out.dtype() == DType.BOOL) {
        throw new IOException("signature '" + spec.key() + "' must have a numeric output");
      }
      return new ScoringModel(choice, mv, spec);
    } catch (IOException | ServingException e) {
      mv.close();
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
  }

  ModelChoice choice() {
    return choice;
  }

  String signatureKey() {
    return signature.key();
  }

  /**
   * Scores texts given as UTF-8 bytes; returns {@code scores[row][class]} (one class for a
   * single-score model).
   *
   * @throws ServingException when the model rejects the batch (the caller retries row by row)
   */
  float[][] score(byte[][] bytes) {
    Map<String, Values> in =
        signature.conform(Map.of(input, Values.strings(new long[] {bytes.length}, bytes)));
    Values out = version.run(signature, in).get(output);
    int rows = (int) out.rows();
    int perRow = rows == 0 ? 0 : out.size() / rows;
    float[][] scores = new float[rows][perRow];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < perRow; c++) {
        scores[r][c] = (float) out.number(r * perRow + c);
      }
    }
    return scores;
  }

  @Override
  public void close() {
    version.close();
  }
}
