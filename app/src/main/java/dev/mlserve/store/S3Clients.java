package dev.mlserve.store;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Builds the service's one S3 client the way every AWS tool is configured: the default credentials
 * chain, {@code AWS_REGION}, and the SDK's own {@code AWS_ENDPOINT_URL_S3} / {@code
 * AWS_ENDPOINT_URL} (read by the SDK itself). When such an endpoint override is in force (MinIO,
 * LocalStack, moto, S3Proxy) path-style addressing is switched on, because emulators on 127.0.0.1
 * cannot answer virtual-host-style requests.
 */
public final class S3Clients {
  private static final Logger log = LoggerFactory.getLogger(S3Clients.class);

  /** Short enough that a poll against an unreachable store fails in seconds, not minutes. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

  /** Between packets of one response; a slow but moving download is never cut off. */
  static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);

  private S3Clients() {}

  /** A client from the environment; the caller closes it. */
  public static S3Client fromEnvironment() {
    S3Client client = builder().build();
    if (client.serviceClientConfiguration().endpointOverride().isEmpty()) {
      return client;
    }
    // The override only shows once the SDK has resolved its configuration, hence a second build.
    client.close();
    S3Client pathStyle = builder().forcePathStyle(true).build();
    log.info(
        "S3 endpoint override {} in force: using path-style addressing",
        pathStyle.serviceClientConfiguration().endpointOverride().get());
    return pathStyle;
  }

  private static S3ClientBuilder builder() {
    return S3Client.builder()
        .region(region())
        .httpClientBuilder(
            ApacheHttpClient.builder()
                .connectionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(SOCKET_TIMEOUT)
                .connectionAcquisitionTimeout(Duration.ofSeconds(10))
                .maxConnections(16))
        // STANDARD: 3 attempts with jittered backoff; a refused connection fails within ~1 s.
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD));
  }

  private static Region region() {
    try {
      return DefaultAwsRegionProviderChain.builder().build().getRegion();
    } catch (SdkClientException e) {
      // Emulators ignore the region; real S3 in another region answers with a clear redirect error.
      log.warn("no AWS region configured (set AWS_REGION); using {}", Region.US_EAST_1);
      return Region.US_EAST_1;
    }
  }
}
