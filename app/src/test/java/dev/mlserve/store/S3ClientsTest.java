package dev.mlserve.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserve.s3.S3ProxyFixture;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@link S3Clients} picks the endpoint, region and credentials up the SDK's standard way. The SDK
 * reads {@code AWS_ENDPOINT_URL_S3} and its JVM twin {@code aws.endpointUrlS3} alike; a test cannot
 * set environment variables, so it sets the system properties and restores them.
 */
class S3ClientsTest {

  @Test
  void switchesToPathStyleWhenTheSdkSeesAnEndpointOverride() {
    try (S3ProxyFixture s3 = S3ProxyFixture.start()) {
      s3.createBucket("from-env");
      s3.put("from-env", "models/m/1/saved_model.pb", new byte[] {1});
      Map<String, String> saved =
          setProperties(
              Map.of(
                  "aws.endpointUrlS3",
                  s3.endpoint().toString(),
                  "aws.region",
                  "eu-west-1",
                  "aws.accessKeyId",
                  S3ProxyFixture.ACCESS_KEY,
                  "aws.secretAccessKey",
                  S3ProxyFixture.SECRET_KEY));
      try (S3Client client = S3Clients.fromEnvironment()) {
        assertThat(client.serviceClientConfiguration().endpointOverride()).contains(s3.endpoint());
        assertThat(client.serviceClientConfiguration().region().id()).isEqualTo("eu-west-1");
        // Virtual-host style would resolve from-env.127.0.0.1 and fail: this call proves path
        // style.
        assertThat(client.listObjectsV2(b -> b.bucket("from-env")).contents()).hasSize(1);
      } finally {
        setProperties(saved);
      }
    }
  }

  /** Sets (or clears, for null values) system properties; returns the previous values. */
  private static Map<String, String> setProperties(Map<String, String> values) {
    Map<String, String> previous = new HashMap<>();
    values.forEach(
        (k, v) -> {
          previous.put(k, System.getProperty(k));
          if (v == null) {
            System.clearProperty(k);
          } else {
            System.setProperty(k, v);
          }
        });
    return previous;
  }
}
