package dev.mlserve.predict;

import dev.mlserve.config.Band;
import dev.mlserve.config.ModelSettings;
import dev.mlserve.config.ModelSettings.Variant;
import dev.mlserve.config.ServerConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the prediction path needs to know about one model, resolved once from its {@code
 * serving.json} and the server's defaults whenever either changes: a request reads one reference.
 *
 * @param batching how requests are merged
 * @param band low-confidence band, if flagging is on
 * @param capturePercent share of requests handed to data capture, 0..100
 * @param variants production variants; empty = route to the latest version
 * @param stickyHeader the request header whose value keeps a client on one variant
 * @param labels label → version
 */
public record ModelPolicy(
    BatchPolicy batching,
    Optional<Band> band,
    double capturePercent,
    List<Variant> variants,
    Optional<String> stickyHeader,
    Map<String, Long> labels) {

  /** Merges a model's settings over the server's defaults. */
  public static ModelPolicy resolve(ModelSettings s, ServerConfig config) {
    ServerConfig.Batching d = config.batching();
    ModelSettings.Batching b = s.batching();
    return new ModelPolicy(
        new BatchPolicy(
            b.enabled().orElse(d.enabled()),
            b.maxBatchSize().orElse(d.maxBatchSize()),
            b.maxWaitMicros().orElse(d.maxWaitMicros()),
            b.maxQueueRows().orElse(d.maxQueueRows())),
        s.lowConfidenceBand().or(config::lowConfidenceBand),
        s.captureSamplePercent().orElse(config.capture().samplePercent()),
        s.variants(),
        s.stickyHeader(),
        s.labels());
  }
}
