package dev.mlserve.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sns.model.MessageAttributeValue;

/**
 * Publishes a finished job's summary to SNS: counts and S3 pointers, never the data (an SNS message
 * is at most 256 KB), a few sample ids, and the message attributes {@code model} and {@code
 * outcome} that subscription filter policies select on. The merge step publishes it, after the
 * manifest is written; Step Functions publishes only when a job fails before a manifest can exist.
 */
final class Notifier {
  private static final Logger log = LoggerFactory.getLogger(Notifier.class);
  static final int MAX_BYTES = 256 * 1024;
  private static final int SAMPLE_FAILURES = 5;
  private static final int MAX_ID_CHARS = 200;

  private Notifier() {}

  /** The message body for a manifest. */
  static ObjectNode message(JsonNode manifest) {
    ObjectNode m = PartScorer.JSON.createObjectNode();
    m.put("job", manifest.get("job").asText());
    m.put("outcome", manifest.get("outcome").asText());
    m.put("model", manifest.at("/model/name").asText());
    m.put("model_version", manifest.at("/model/version").asLong());
    m.set("model_label", manifest.at("/model/label"));
    JsonNode c = manifest.get("counts");
    m.put("rows", c.get("rows").asLong());
    m.put("scored", c.get("scored").asLong());
    m.put("failed_rows", c.get("failed_rows").asLong());
    m.put("low_confidence_rows", c.get("low_confidence_rows").asLong());
    m.set("by_band", c.get("by_band"));
    m.set("failure_reasons", c.get("failure_reasons"));
    m.put("manifest", manifest.at("/outputs/manifest").asText());
    m.put("low_confidence", manifest.at("/outputs/low_confidence").asText());
    m.put("errors", manifest.at("/outputs/errors").asText());
    m.put("output", manifest.get("output").asText());
    ArrayNode ids = m.putArray("sample_low_confidence_ids");
    for (JsonNode id : manifest.get("low_confidence_samples")) {
      ids.add(abbreviate(id.asText()));
    }
    ArrayNode failures = m.putArray("sample_failures");
    for (JsonNode f : manifest.get("failures")) {
      if (failures.size() >= SAMPLE_FAILURES) {
        break;
      }
      ObjectNode s = failures.addObject();
      s.put("file", abbreviate(f.path("file").asText()));
      s.put("offset", f.path("offset").asLong());
      if (f.hasNonNull("id")) {
        s.put("id", abbreviate(f.get("id").asText()));
      }
      s.put("reason", f.path("reason").asText());
    }
    m.put("rows_per_second", Math.round(manifest.at("/timings/rows_per_second").asDouble()));
    return m;
  }

  /** A subject line (SNS allows 100 ASCII characters; email subscribers see it). */
  static String subject(JsonNode manifest) {
    String s =
        String.format(
            "batch %s: %s, %d rows, %d low-confidence, %d failed",
            manifest.get("job").asText(),
            manifest.get("outcome").asText(),
            manifest.at("/counts/rows").asLong(),
            manifest.at("/counts/low_confidence_rows").asLong(),
            manifest.at("/counts/failed_rows").asLong());
    return s.length() > 100 ? s.substring(0, 100) : s;
  }

  static Map<String, MessageAttributeValue> attributes(JsonNode manifest) {
    return Map.of(
        "model", string(manifest.at("/model/name").asText()),
        "outcome", string(manifest.get("outcome").asText()));
  }

  /** Publishes; returns the SNS message id. */
  static String publish(SnsClient sns, String topicArn, JsonNode manifest) {
    String body;
    try {
      body = PartScorer.JSON.writeValueAsString(message(manifest));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    if (body.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES - 4096) {
      throw new IllegalStateException("notification over the SNS limit: " + body.length());
    }
    String id =
        sns.publish(
                b ->
                    b.topicArn(topicArn)
                        .subject(subject(manifest))
                        .message(body)
                        .messageAttributes(attributes(manifest)))
            .messageId();
    log.info(
        "published job {} ({}) to {}: message {}",
        manifest.get("job").asText(),
        manifest.get("outcome").asText(),
        topicArn,
        id);
    return id;
  }

  private static MessageAttributeValue string(String v) {
    return MessageAttributeValue.builder().dataType("String").stringValue(v).build();
  }

  private static String abbreviate(String s) {
    return s.length() > MAX_ID_CHARS ? s.substring(0, MAX_ID_CHARS) + "…" : s;
  }
}
