package dev.mlserve.model;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.proto.ConfigProto;

/**
 * Loads a SavedModel folder, reads its signatures, and warms every servable one up at the row
 * counts the batcher sends, so the first real requests do not pay for graph initialisation or a new
 * batch size's first call.
 */
public final class ModelLoader {
  public static final String DEFAULT_SIGNATURE = "serving_default";
  private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelLoader() {}

  /**
   * TensorFlow's thread pools for one loaded model: {@code intraOp} threads inside one operation
   * (e.g. a matrix multiply), {@code interOp} operations run side by side. 0 lets TensorFlow pick
   * (one per core each). Small pools pay when the caller already runs calls in parallel (batch
   * workers): they stop the calls from fighting over the same cores.
   */
  public record Threads(int intraOp, int interOp) {
    /** TensorFlow's own choice. */
    public static final Threads TF_DEFAULT = new Threads(0, 0);

    public Threads {
      if (intraOp < 0 || interOp < 0) {
        throw new IllegalArgumentException("thread counts must be >= 0");
      }
    }
  }

  /**
   * Loads and warms up {@code dir} as {@code name} version {@code version} with TensorFlow's
   * default thread pools.
   *
   * @throws ModelLoadException when the folder is not a loadable SavedModel, has no servable
   *     signature, or fails its warm-up
   */
  public static ModelVersion load(String name, long version, Path dir) {
    return load(name, version, dir, Threads.TF_DEFAULT);
  }

  /** Loads like {@link #load(String, long, Path)}, with the given thread pools. */
  public static ModelVersion load(String name, long version, Path dir, Threads threads) {
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw new ModelLoadException(name, version, "no saved_model.pb in " + dir);
    }
    SavedModelBundle bundle;
    try {
      bundle =
          SavedModelBundle.loader(dir.toString())
              .withTags(SavedModelBundle.DEFAULT_TAG)
              .withConfigProto(
                  ConfigProto.newBuilder()
                      .setIntraOpParallelismThreads(threads.intraOp())
                      .setInterOpParallelismThreads(threads.interOp())
                      .build())
              .load();
    } catch (RuntimeException | Error e) {
      throw new ModelLoadException(
          name, version, "TensorFlow could not load it: " + e.getMessage());
    }
    try {
      Map<String, SignatureSpec> signatures = servableSignatures(name, version, bundle);
      if (signatures.isEmpty()) {
        throw new ModelLoadException(
            name, version, "no signature with string or numeric inputs and outputs");
      }
      ModelVersion mv = new ModelVersion(name, version, bundle, signatures, readCard(dir));
      for (SignatureSpec spec : signatures.values()) {
        warmUp(mv, spec);
      }
      return mv;
    } catch (RuntimeException e) {
      bundle.close();
      throw e instanceof ModelLoadException m
          ? m
          : new ModelLoadException(name, version, "warm-up failed: " + e.getMessage());
    }
  }

  private static Map<String, SignatureSpec> servableSignatures(
      String name, long version, SavedModelBundle bundle) {
    // Sorted by key: TensorFlow hands the signature, input and output maps over in its C++
    // protobuf maps' iteration order, which changes from one process to the next.
    Map<String, SignatureSpec> specs = new TreeMap<>();
    for (Signature s : bundle.signatures()) {
      if (s.key().startsWith("__")) {
        continue; // __saved_model_init_op and friends are not callable signatures
      }
      Optional<SignatureSpec> spec = describe(s);
      if (spec.isPresent()) {
        specs.put(s.key(), spec.get());
      } else {
        log.warn(
            "model {} v{}: signature '{}' has unsupported tensor types; not served",
            name,
            version,
            s.key());
      }
    }
    // serving_default first, so listings and defaults read naturally
    Map<String, SignatureSpec> ordered = new LinkedHashMap<>();
    if (specs.containsKey(DEFAULT_SIGNATURE)) {
      ordered.put(DEFAULT_SIGNATURE, specs.get(DEFAULT_SIGNATURE));
    }
    ordered.putAll(specs);
    return ordered;
  }

  private static Optional<SignatureSpec> describe(Signature s) {
    Map<String, TensorSpec> inputs = new LinkedHashMap<>();
    Map<String, TensorSpec> outputs = new LinkedHashMap<>();
    for (var e : new TreeMap<>(s.getInputs()).entrySet()) {
      Optional<TensorSpec> t = tensorSpec(e.getKey(), e.getValue());
      if (t.isEmpty()) {
        return Optional.empty();
      }
      inputs.put(e.getKey(), t.get());
    }
    for (var e : new TreeMap<>(s.getOutputs()).entrySet()) {
      Optional<TensorSpec> t = tensorSpec(e.getKey(), e.getValue());
      if (t.isEmpty()) {
        return Optional.empty();
      }
      outputs.put(e.getKey(), t.get());
    }
    if (inputs.isEmpty() || outputs.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new SignatureSpec(s.key(), s.methodName(), inputs, outputs));
  }

  private static Optional<TensorSpec> tensorSpec(String key, Signature.TensorDescription d) {
    return DType.fromProto(d.dataType)
        .map(
            dtype ->
                new TensorSpec(key, dtype, d.shape.isUnknown() ? null : d.shape.asArray(), d.name));
  }

  /**
   * Row counts the warm-up runs a batchable signature at, twice over: TensorFlow pays a first-call
   * cost per new input shape (memory arenas growing, kernels picked for the shape), up to ~180 ms
   * for the first two-row call, and the batcher sends every count up to {@code BATCH_MAX_SIZE} (256
   * by default). Powers of two cover the range in 18 calls per signature.
   */
  private static final int[] WARM_UP_ROWS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

  private static final int WARM_UP_ROUNDS = 2;

  private static void warmUp(ModelVersion mv, SignatureSpec spec) {
    boolean batchable =
        spec.inputs().values().stream().allMatch(t -> t.unknownRank() || t.shape()[0] < 0);
    int[] rowCounts = batchable ? WARM_UP_ROWS : new int[] {1};
    long start = System.nanoTime();
    int calls = 0;
    for (int round = 0; round < WARM_UP_ROUNDS; round++) {
      for (int rows : rowCounts) {
        Map<String, Values> inputs = new LinkedHashMap<>();
        for (TensorSpec t : spec.inputs().values()) {
          long[] shape = t.unknownRank() ? new long[] {rows} : t.shape().clone();
          for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
              shape[i] = i == 0 ? rows : 1;
            }
          }
          inputs.put(t.name(), blank(t.dtype(), shape));
        }
        mv.run(spec, inputs);
        calls++;
      }
    }
    log.info(
        "model {} v{}: warmed up signature '{}' with {} calls of up to {} rows in {} ms",
        mv.name(),
        mv.version(),
        spec.key(),
        calls,
        rowCounts[rowCounts.length - 1],
        (System.nanoTime() - start) / 1_000_000);
  }

  private static Values blank(DType dtype, long[] shape) {
    int n = (int) Values.elementCount(shape);
    return switch (dtype) {
      case STRING -> {
        byte[][] s = new byte[n][];
        Arrays.fill(s, "warm up".getBytes(StandardCharsets.UTF_8));
        yield new Values(dtype, shape, s);
      }
      case FLOAT -> new Values(dtype, shape, new float[n]);
      case DOUBLE -> new Values(dtype, shape, new double[n]);
      case INT32 -> new Values(dtype, shape, new int[n]);
      case INT64 -> new Values(dtype, shape, new long[n]);
      case BOOL -> new Values(dtype, shape, new boolean[n]);
    };
  }

  private static Map<String, Object> readCard(Path dir) {
    Path card = dir.resolve("assets.extra").resolve("model-card.json");
    if (!Files.isRegularFile(card)) {
      return Map.of();
    }
    try {
      return JSON.readValue(card.toFile(), new TypeReference<Map<String, Object>>() {});
    } catch (IOException e) {
      log.warn("unreadable model card {}: {}", card, e.getMessage());
      return Map.of();
    }
  }
}
