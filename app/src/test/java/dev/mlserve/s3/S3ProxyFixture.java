package dev.mlserve.s3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 API served in-process by S3Proxy (in-memory {@code transient-nio2} store) on a free
 * loopback port, with SDK clients pointed at it the way an endpoint override works in production
 * (path-style addressing). No Docker, no network: the README's test command runs it everywhere.
 */
public final class S3ProxyFixture implements AutoCloseable {
  public static final String ACCESS_KEY = "test-access";
  public static final String SECRET_KEY = "test-secret";
  private final S3Proxy proxy;
  private final List<S3Client> clients = new ArrayList<>();
  private final URI endpoint;

  private S3ProxyFixture(S3Proxy proxy) {
    this.proxy = proxy;
    this.endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  /** Starts S3Proxy on 127.0.0.1 at a free port. */
  public static S3ProxyFixture start() {
    return start(BlobStores.create("transient-nio2", new Properties()));
  }

  /**
   * Starts S3Proxy with its objects stored on disk under {@code baseDir}: for data larger than the
   * in-memory store holds (Jimfs caps it at 4 GiB, a gigabyte-sized job's input, parts and merged
   * output together pass that).
   */
  public static S3ProxyFixture start(Path baseDir) {
    Properties props = new Properties();
    props.setProperty("jclouds.filesystem.basedir", baseDir.toString());
    return start(BlobStores.create("filesystem-nio2", props));
  }

  private static S3ProxyFixture start(org.gaul.s3proxy.blobstore.BlobStore store) {
    S3Proxy proxy =
        S3Proxy.builder()
            .blobStore(store)
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    try {
      proxy.start();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    } catch (Exception e) {
      throw new IllegalStateException("S3Proxy did not start", e);
    }
    return new S3ProxyFixture(proxy);
  }

  public URI endpoint() {
    return endpoint;
  }

  /** A client for this server; closed with the fixture. */
  public S3Client client(ExecutionInterceptor... interceptors) {
    return client(endpoint, interceptors);
  }

  /**
   * A client for {@code endpoint}, configured as the service's own factory would for an override.
   */
  public S3Client client(URI endpoint, ExecutionInterceptor... interceptors) {
    S3Client c =
        S3Client.builder()
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
            .httpClientBuilder(ApacheHttpClient.builder())
            .overrideConfiguration(
                o -> {
                  o.retryStrategy(
                      RetryMode.STANDARD); // as S3Clients configures the service's client
                  for (ExecutionInterceptor i : interceptors) {
                    o.addExecutionInterceptor(i);
                  }
                })
            .build();
    synchronized (clients) {
      clients.add(c);
    }
    return c;
  }

  public void createBucket(String bucket) {
    admin().createBucket(b -> b.bucket(bucket));
  }

  public void put(String bucket, String key, byte[] content) {
    admin().putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(content));
  }

  /**
   * Uploads every file under {@code folder} to {@code prefix/<relative path>}, in {@code order}.
   */
  public void uploadTree(String bucket, String prefix, Path folder) {
    try (Stream<Path> files = Files.walk(folder)) {
      for (Path f : files.filter(Files::isRegularFile).sorted(savedModelLast()).toList()) {
        String rel = folder.relativize(f).toString().replace('\\', '/');
        admin().putObject(b -> b.bucket(bucket).key(prefix + "/" + rel), RequestBody.fromFile(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * saved_model.pb goes last, as the project's uploader does: its presence marks a complete
   * version.
   */
  private static java.util.Comparator<Path> savedModelLast() {
    return java.util.Comparator.comparing(
            (Path p) -> p.getFileName().toString().equals("saved_model.pb"))
        .thenComparing(Path::toString);
  }

  public byte[] get(String bucket, String key) {
    return admin().getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
  }

  public List<S3Object> list(String bucket, String prefix) {
    return admin().listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream()
        .toList();
  }

  public void delete(String bucket, String key) {
    admin().deleteObject(b -> b.bucket(bucket).key(key));
  }

  private S3Client admin;

  private synchronized S3Client admin() {
    if (admin == null) {
      admin = client();
    }
    return admin;
  }

  /** Stops the server (clients stay open): what an S3 outage looks like to the service. */
  public void stopServer() {
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    synchronized (clients) {
      clients.forEach(S3Client::close);
      clients.clear();
    }
    if (!"STOPPED".equals(proxy.getState())) {
      stopServer();
    }
  }
}
