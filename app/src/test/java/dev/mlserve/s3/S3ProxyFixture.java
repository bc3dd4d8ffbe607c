package dev.mlserve.s3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
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
  private final Tls tls;

  private S3ProxyFixture(S3Proxy proxy, Tls tls) {
    this.proxy = proxy;
    this.tls = tls;
    this.endpoint =
        tls == null
            ? URI.create("http://127.0.0.1:" + proxy.getPort())
            : URI.create("https://127.0.0.1:" + proxy.getSecurePort());
  }

  /**
   * A self-signed certificate for 127.0.0.1 in a PKCS12 key store, made by the JDK's keytool: the
   * server's key, and the trust store a client of the HTTPS endpoint needs.
   */
  public record Tls(Path keyStore, String password) {
    static Tls create(Path dir) {
      Path store = dir.resolve("s3proxy-tls.p12");
      String password = "s3proxy-test";
      try {
        Files.createDirectories(dir);
        Files.deleteIfExists(store);
        Process keytool =
            new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair",
                    "-alias",
                    "s3proxy",
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-dname",
                    "CN=127.0.0.1",
                    "-ext",
                    "SAN=ip:127.0.0.1",
                    "-validity",
                    "2",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    store.toString(),
                    "-storepass",
                    password)
                .redirectErrorStream(true)
                .start();
        String output = new String(keytool.getInputStream().readAllBytes());
        if (keytool.waitFor() != 0) {
          throw new IllegalStateException("keytool failed: " + output);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return new Tls(store, password);
    }

    /** The JVM options that make another JVM's default TLS trust this certificate. */
    public List<String> trustOptions() {
      return List.of(
          "-Djavax.net.ssl.trustStore=" + keyStore,
          "-Djavax.net.ssl.trustStorePassword=" + password,
          "-Djavax.net.ssl.trustStoreType=PKCS12");
    }

    TrustManager[] trustManagers() {
      try {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(keyStore)) {
          ks.load(in, password.toCharArray());
        }
        TrustManagerFactory tmf =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return tmf.getTrustManagers();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
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
    return start(onDisk(baseDir));
  }

  private static org.gaul.s3proxy.blobstore.BlobStore onDisk(Path baseDir) {
    try {
      Files.createDirectories(baseDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Properties props = new Properties();
    props.setProperty("jclouds.filesystem.basedir", baseDir.toString());
    return BlobStores.create("filesystem-nio2", props);
  }

  /**
   * Starts S3Proxy storing on disk under {@code baseDir} and serving HTTPS only, as S3 does: the
   * AWS SDK then takes the path it takes in AWS (an upload's payload unsigned, with a CRC32
   * trailer; over plain HTTP it signs every chunk with SHA-256 instead). Clients of {@link #client}
   * trust its certificate; another JVM needs {@link #tls()}'s options.
   */
  public static S3ProxyFixture startHttps(Path baseDir) {
    return start(onDisk(baseDir), Tls.create(baseDir.resolveSibling("tls")));
  }

  private static S3ProxyFixture start(org.gaul.s3proxy.blobstore.BlobStore store) {
    return start(store, null);
  }

  private static S3ProxyFixture start(org.gaul.s3proxy.blobstore.BlobStore store, Tls tls) {
    S3Proxy.Builder builder =
        S3Proxy.builder()
            .blobStore(store)
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY);
    if (tls == null) {
      builder.endpoint(URI.create("http://127.0.0.1:0"));
    } else {
      builder
          .secureEndpoint(URI.create("https://127.0.0.1:0"))
          .keyStore(tls.keyStore().toString(), tls.password());
    }
    S3Proxy proxy = builder.build();
    try {
      proxy.start();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    } catch (Exception e) {
      throw new IllegalStateException("S3Proxy did not start", e);
    }
    return new S3ProxyFixture(proxy, tls);
  }

  public URI endpoint() {
    return endpoint;
  }

  /** The HTTPS endpoint's certificate; null for a plain HTTP fixture. */
  public Tls tls() {
    return tls;
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
            .httpClientBuilder(
                tls == null
                    ? ApacheHttpClient.builder()
                    : ApacheHttpClient.builder().tlsTrustManagersProvider(tls::trustManagers))
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
