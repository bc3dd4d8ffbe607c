package dev.mlserve.release;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

/**
 * Instant PromQL queries through the Prometheus HTTP API ({@code GET /api/v1/query}), against any
 * Prometheus or, signed with SigV4 for service {@code aps} by the AWS SDK's own signer, against an
 * Amazon Managed Prometheus workspace (the caller's role needs {@code aps:QueryMetrics}).
 */
final class PrometheusClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern AMP_HOST =
      Pattern.compile("aps-workspaces\\.([a-z0-9-]+)\\.amazonaws\\.com");

  private final URI base;
  private final Optional<AwsCredentialsProvider> credentials;
  private final String region;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * @param base the API base: {@code http://host:9090} or an AMP workspace URL
   * @param credentials present to sign every query with SigV4 (service {@code aps})
   */
  PrometheusClient(URI base, Optional<AwsCredentialsProvider> credentials) {
    this.base = base;
    this.credentials = credentials;
    Matcher m = AMP_HOST.matcher(base.getHost());
    this.region = m.matches() ? m.group(1) : credentials.isPresent() ? regionFromEnvironment() : "";
  }

  private static String regionFromEnvironment() {
    try {
      return DefaultAwsRegionProviderChain.builder().build().getRegion().id();
    } catch (SdkClientException e) {
      // Any Prometheus behind a SigV4 proxy; AMP URLs carry their region in the host name.
      return "us-east-1";
    }
  }

  URI base() {
    return base;
  }

  /**
   * The result vector of {@code promql} evaluated at {@code time}: one entry per series, each with
   * its labels ({@code metric}) and value.
   */
  List<Series> query(String promql, Instant time) throws IOException, InterruptedException {
    String path = base.getRawPath() == null ? "" : base.getRawPath();
    SdkHttpFullRequest request =
        SdkHttpFullRequest.builder()
            .method(SdkHttpMethod.GET)
            .protocol(base.getScheme())
            .host(base.getHost())
            .port(base.getPort() < 0 ? null : base.getPort())
            .encodedPath(path + "/api/v1/query")
            .putRawQueryParameter("query", promql)
            .putRawQueryParameter("time", String.format("%.3f", time.toEpochMilli() / 1000.0))
            .build();
    Map<String, List<String>> headers = Map.of();
    if (credentials.isPresent()) {
      SignedRequest signed =
          AwsV4HttpSigner.create()
              .sign(
                  r ->
                      r.identity(credentials.get().resolveCredentials())
                          .request(request)
                          .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "aps")
                          .putProperty(AwsV4HttpSigner.REGION_NAME, region));
      headers = signed.request().headers();
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(request.getUri()).timeout(Duration.ofSeconds(30)).GET();
    headers.forEach(
        (name, values) -> {
          if (!name.equalsIgnoreCase("host")) { // HttpClient sets Host from the URI itself
            values.forEach(v -> b.header(name, v));
          }
        });
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode body;
    try {
      body = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IOException(
          "Prometheus at " + base + " answered " + r.statusCode() + ": " + r.body());
    }
    if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new IOException(
          "PromQL query failed at "
              + base
              + " ("
              + r.statusCode()
              + "): "
              + body.path("error").asText(r.body()));
    }
    JsonNode result = body.path("data").path("result");
    java.util.ArrayList<Series> out = new java.util.ArrayList<>();
    for (JsonNode s : result) {
      Map<String, String> labels = new java.util.TreeMap<>();
      s.path("metric")
          .fields()
          .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
      out.add(new Series(Map.copyOf(labels), Double.parseDouble(s.path("value").get(1).asText())));
    }
    return out;
  }

  /** One series of an instant vector. */
  record Series(Map<String, String> labels, double value) {
    String label(String name) {
      return labels.getOrDefault(name, "");
    }
  }
}
