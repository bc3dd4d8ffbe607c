package dev.mlserve.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserve.MotoServer;
import dev.mlserve.TestSupport;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The job's SNS message read back through real subscriptions: moto's SNS delivering to SQS queues,
 * one taking everything and two with filter policies on the {@code outcome} attribute. moto runs as
 * its own process ({@code moto_server}); without it the test is skipped with a reason, and on CI
 * ({@code CI=true}, where .ci/run installs it) it fails instead.
 */
class BatchNotificationTest {
  @TempDir static Path tmp;
  static MotoServer moto;
  static URI endpoint;
  static BatchFixture s3;
  static SnsClient sns;
  static SqsClient sqs;

  @BeforeAll
  static void start() throws Exception {
    moto = MotoServer.start(Map.of());
    endpoint = moto.endpoint();
    StaticCredentialsProvider creds =
        StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing"));
    sns =
        SnsClient.builder()
            .endpointOverride(endpoint)
            .region(Region.US_EAST_1)
            .credentialsProvider(creds)
            .build();
    sqs =
        SqsClient.builder()
            .endpointOverride(endpoint)
            .region(Region.US_EAST_1)
            .credentialsProvider(creds)
            .build();
    s3 = new BatchFixture(tmp);
    s3.sns = sns;
  }

  @AfterAll
  static void stop() {
    if (s3 != null) {
      s3.close();
      sns.close();
      sqs.close();
    }
    if (moto != null) {
      moto.close();
    }
  }

  private static String queue(String topicArn, String name, String filterPolicy) {
    String url = sqs.createQueue(b -> b.queueName(name)).queueUrl();
    String arn =
        sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNamesWithStrings("QueueArn"))
            .attributesAsStrings()
            .get("QueueArn");
    String sub =
        sns.subscribe(b -> b.topicArn(topicArn).protocol("sqs").endpoint(arn)).subscriptionArn();
    if (filterPolicy != null) {
      sns.setSubscriptionAttributes(
          b -> b.subscriptionArn(sub).attributeName("FilterPolicy").attributeValue(filterPolicy));
    }
    return url;
  }

  private static List<Message> receive(String url) {
    return sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(2))
        .messages();
  }

  @Test
  void theMergeStepPublishesCountsAndPointersWithFilterableAttributes() throws Exception {
    String topic = sns.createTopic(b -> b.name("batch-results")).topicArn();
    String all = queue(topic, "all-jobs", null);
    String lowOnly = queue(topic, "low-confidence-jobs", "{\"outcome\": [\"low_confidence\"]}");
    String failedOnly = queue(topic, "failed-jobs", "{\"outcome\": [\"rows_failed\", \"failed\"]}");

    StringBuilder text = new StringBuilder();
    for (JsonNode c : BatchFixture.golden().get("cases")) {
      String t = c.get("text").asText();
      if (!t.contains("\n") && !t.isBlank()) {
        text.append(t).append('\n');
      }
    }
    s3.put("batch/input/notify/reviews.txt", text.toString());
    int code = s3.run(s3.env("notify", Map.of("BATCH_SNS_TOPIC_ARN", topic)), "run");
    assertThat(code).as(s3.err).isZero();
    JsonNode manifest = s3.manifest("notify");

    List<Message> got = receive(all);
    assertThat(got).hasSize(1);
    JsonNode envelope = TestSupport.JSON.readTree(got.get(0).body());
    String body = envelope.get("Message").asText();
    assertThat(body.getBytes(StandardCharsets.UTF_8).length).isLessThan(256 * 1024);
    assertThat(envelope.get("Subject").asText())
        .startsWith("batch notify: low_confidence, " + manifest.at("/counts/rows").asLong());
    assertThat(envelope.at("/MessageAttributes/model/Value").asText()).isEqualTo("imdb-sentiment");
    assertThat(envelope.at("/MessageAttributes/outcome/Value").asText())
        .isEqualTo("low_confidence");

    JsonNode m = TestSupport.JSON.readTree(body);
    assertThat(m.get("job").asText()).isEqualTo("notify");
    assertThat(m.get("outcome").asText()).isEqualTo("low_confidence");
    assertThat(m.get("model").asText()).isEqualTo("imdb-sentiment");
    assertThat(m.get("model_version").asLong()).isEqualTo(1);
    assertThat(m.get("rows").asLong()).isEqualTo(manifest.at("/counts/rows").asLong());
    assertThat(m.get("low_confidence_rows").asLong())
        .isEqualTo(manifest.at("/counts/low_confidence_rows").asLong())
        .isPositive();
    assertThat(m.get("failed_rows").asLong()).isZero();
    assertThat(m.get("low_confidence").asText())
        .isEqualTo("s3://batch-data/batch/output/notify/low-confidence.jsonl");
    assertThat(m.get("manifest").asText())
        .isEqualTo("s3://batch-data/batch/output/notify/_SUCCESS");
    assertThat(m.get("sample_low_confidence_ids"))
        .isEqualTo(manifest.get("low_confidence_samples"));
    assertThat(m.get("sample_low_confidence_ids").get(0).asText()).startsWith("reviews.txt:");
    assertThat(m.has("text")).isFalse(); // pointers and counts, never the data

    assertThat(receive(lowOnly)).hasSize(1);
    assertThat(receive(failedOnly)).isEmpty();

    // A job with a bad row is "rows_failed": the failed-jobs subscription gets that one.
    s3.put("batch/input/notify2/rows.jsonl", "{\"id\": 1, \"text\": \"great movie\"}\nnot json\n");
    code = s3.run(s3.env("notify2", Map.of("BATCH_SNS_TOPIC_ARN", topic)), "run");
    assertThat(code).as(s3.err).isZero();
    List<Message> failed = receive(failedOnly);
    assertThat(failed).hasSize(1);
    JsonNode f =
        TestSupport.JSON.readTree(
            TestSupport.JSON.readTree(failed.get(0).body()).get("Message").asText());
    assertThat(f.get("outcome").asText()).isEqualTo("rows_failed");
    assertThat(f.at("/sample_failures/0/reason").asText()).isEqualTo(RowFailure.NOT_JSON);
    assertThat(f.at("/failure_reasons/" + RowFailure.NOT_JSON.replace(" ", " ")).asLong())
        .isEqualTo(1);
    assertThat(receive(lowOnly)).isEmpty();
    assertThat(receive(all)).hasSize(1);
  }
}
