package dev.mlserve;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Container health check for images without curl: {@code java -cp /app/classes
 * dev.mlserve.HealthCheck http://127.0.0.1:8080/v2/health/live}. Exits 0 on HTTP 200, 1 otherwise.
 * Uses only the JDK so it starts in a fraction of a second with a tiny heap.
 */
public final class HealthCheck {
  private HealthCheck() {}

  public static void main(String[] args) {
    String url = args.length > 0 ? args[0] : "http://127.0.0.1:8080/v2/health/live";
    try {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).GET().build();
      int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      System.exit(status == 200 ? 0 : 1);
    } catch (Exception e) {
      System.err.println("health check failed: " + e);
      System.exit(1);
    }
  }
}
