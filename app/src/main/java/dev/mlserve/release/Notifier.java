package dev.mlserve.release;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sns.model.MessageAttributeValue;

/**
 * Tells people about each decision: one SNS message (with {@code model} and {@code decision}
 * message attributes, so subscriptions can filter), and the same table appended to the job summary
 * file when one is configured. A notice that cannot be sent is logged; it never undoes a decision.
 */
final class Notifier {
  private static final Logger log = LoggerFactory.getLogger(Notifier.class);

  /** SNS refuses messages over 256 KB; the table is a few KB, the history stays in S3. */
  static final int MAX_MESSAGE_BYTES = 256 * 1024;

  private final Optional<SnsClient> sns;
  private final Optional<String> topicArn;
  private final Optional<Path> summary;
  private final Optional<String> runUrl;

  Notifier(
      Optional<SnsClient> sns,
      Optional<String> topicArn,
      Optional<Path> summary,
      Optional<String> runUrl) {
    this.sns = sns;
    this.topicArn = topicArn;
    this.summary = summary;
    this.runUrl = runUrl;
  }

  void announce(Decision d, String servingUri) {
    String text = d.markdown(runUrl) + "\nserving.json: " + servingUri + "\n";
    if (summary.isPresent()) {
      try {
        Files.writeString(
            summary.get(),
            text + "\n",
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        log.warn("could not append to the job summary {}: {}", summary.get(), e.toString());
      }
    }
    if (sns.isEmpty() || topicArn.isEmpty()) {
      return;
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    final String message =
        bytes.length <= MAX_MESSAGE_BYTES
            ? text
            : new String(bytes, 0, MAX_MESSAGE_BYTES - 200, StandardCharsets.UTF_8)
                + "\n… (cut to fit SNS's 256 KB; the full record is in "
                + servingUri
                + ")\n";
    String subject =
        ("Release "
            + d.model()
            + ": "
            + d.kind().replace('_', ' ')
            + d.candidate().map(v -> " v" + v).orElse(""));
    try {
      String id =
          sns.get()
              .publish(
                  p ->
                      p.topicArn(topicArn.get())
                          .subject(subject.length() > 100 ? subject.substring(0, 100) : subject)
                          .message(message)
                          .messageAttributes(
                              Map.of(
                                  "model", attr(d.model()),
                                  "decision", attr(d.kind()))))
              .messageId();
      log.info("notice {} published to {}", id, topicArn.get());
    } catch (RuntimeException e) {
      log.error("could not publish the decision to {}: {}", topicArn.get(), e.toString());
    }
  }

  private static MessageAttributeValue attr(String value) {
    return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
  }
}
