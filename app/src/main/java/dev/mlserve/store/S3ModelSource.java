package dev.mlserve.store;

import dev.mlserve.config.Identifiers;
import dev.mlserve.config.ModelSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Models in a bucket, laid out as TensorFlow Serving expects, under {@code s3://bucket/prefix}:
 * {@code <model>/<version>/...} folders (complete once {@code saved_model.pb} is there — uploaders
 * put it last) or {@code <model>/<version>.tar.gz} archives, plus an optional {@code
 * <model>/serving.json}. A version is downloaded into the {@link ModelCache}, checked against the
 * listing (sizes, ETags) and only then handed over; a complete cached copy is reused.
 */
public final class S3ModelSource implements ModelSource {
  private static final Logger log = LoggerFactory.getLogger(S3ModelSource.class);
  private static final String SAVED_MODEL = "saved_model.pb";
  private static final String ARCHIVE_SUFFIX = ".tar.gz";
  private static final int MAX_SETTINGS_BYTES = 1024 * 1024;

  /** For the small calls (listings, serving.json): a dead store fails a poll in seconds. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(15);

  private final S3Client s3;
  private final S3Location base;
  private final ModelCache cache;
  private final S3ObjectDownload download;

  /**
   * @param s3 the client (not closed here)
   * @param base where the models are
   * @param cacheDir where versions are downloaded to (created; staging debris in it is removed)
   */
  public S3ModelSource(S3Client s3, S3Location base, Path cacheDir) throws IOException {
    this.s3 = s3;
    this.base = base;
    this.cache = new ModelCache(cacheDir);
    this.download = new S3ObjectDownload(s3, base.bucket());
  }

  @Override
  public String describe() {
    return base.toString();
  }

  @Override
  public List<String> models() throws IOException {
    List<String> names = new ArrayList<>();
    try {
      for (CommonPrefix p :
          s3.listObjectsV2Paginator(
                  b ->
                      b.bucket(base.bucket())
                          .prefix(base.folder())
                          .delimiter("/")
                          .overrideConfiguration(o -> o.apiCallTimeout(CALL_TIMEOUT)))
              .commonPrefixes()) {
        String name = p.prefix().substring(base.folder().length(), p.prefix().length() - 1);
        if (Identifiers.isName(name)) {
          names.add(name);
        } else {
          log.debug("{}: ignoring '{}/': not a valid model name", base, name);
        }
      }
    } catch (SdkException e) {
      throw unreachable("list models in", base.toString(), e);
    }
    names.sort(null);
    return names;
  }

  @Override
  public SortedSet<Long> versions(String model) throws IOException {
    return new TreeSet<>(scan(model).keySet());
  }

  @Override
  public Optional<byte[]> settings(String model) throws IOException {
    String key = base.key(checkedName(model) + "/" + ModelSettings.FILE_NAME);
    try (ResponseInputStream<GetObjectResponse> in =
        s3.getObject(
            b ->
                b.bucket(base.bucket())
                    .key(key)
                    .overrideConfiguration(o -> o.apiCallTimeout(CALL_TIMEOUT)))) {
      byte[] bytes = in.readNBytes(MAX_SETTINGS_BYTES + 1);
      if (bytes.length > MAX_SETTINGS_BYTES) {
        throw new IOException("s3://" + base.bucket() + "/" + key + " is over 1 MiB");
      }
      return Optional.of(bytes);
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (SdkException e) {
      throw unreachable("read", "s3://" + base.bucket() + "/" + key, e);
    }
  }

  @Override
  public Path materialize(String model, long version) throws IOException {
    S3VersionListing listing = scan(model).get(version);
    if (listing == null) {
      throw new IOException(model + " version " + version + " is no longer in " + base);
    }
    List<ModelCache.Source> sources =
        listing.items().stream()
            .map(i -> new ModelCache.Source(i.key(), i.size(), i.eTag()))
            .toList();
    Optional<Path> cached = cache.reusable(model, version, sources);
    if (cached.isPresent()) {
      log.info(
          "model {} version {}: using the verified cached copy in {}",
          model,
          version,
          cached.get());
      return cached.get();
    }
    long start = System.nanoTime();
    Path staging = cache.newStaging(model, version);
    try {
      Path assembled =
          listing.archive() ? fetchArchive(listing, staging) : fetchFolder(listing, staging);
      if (!Files.isRegularFile(assembled.resolve(SAVED_MODEL))) {
        throw new IOException(
            model + " version " + version + " has no " + SAVED_MODEL + " at its top");
      }
      Path dir = cache.commit(assembled, model, version, sources);
      double seconds = (System.nanoTime() - start) / 1e9;
      log.info(
          "model {} version {}: downloaded {} object(s), {} bytes, verified, in {} s ({} MB/s)",
          model,
          version,
          listing.items().size(),
          listing.totalBytes(),
          String.format("%.1f", seconds),
          String.format("%.1f", listing.totalBytes() / 1e6 / Math.max(seconds, 1e-3)));
      return dir;
    } finally {
      cache.discard(staging);
    }
  }

  @Override
  public void evict(String model, long version) {
    if (Identifiers.isName(model)) {
      cache.evict(model, version);
    }
  }

  private Path fetchFolder(S3VersionListing listing, Path staging) throws IOException {
    for (S3VersionListing.Item item : listing.items()) {
      if (item.path().equals(ModelCache.MARKER)) {
        throw new IOException(
            "refusing an object named " + ModelCache.MARKER + ": the cache uses it");
      }
      Path file = SafePaths.resolveInside(staging, item.path());
      Files.createDirectories(file.getParent());
      download.fetch(
          item,
          in -> {
            try (OutputStream out =
                Files.newOutputStream(
                    file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
              in.transferTo(out);
            }
          });
    }
    return staging;
  }

  /**
   * Streams the archive through gunzip and the tar reader into {@code staging/content}; the
   * archive's checksum is verified once the last byte has passed, before anything is committed. The
   * version's files sit at the archive's top, or inside its one top-level folder.
   */
  private Path fetchArchive(S3VersionListing listing, Path staging) throws IOException {
    Path content = Files.createDirectory(staging.resolve("content"));
    S3VersionListing.Item archive = listing.items().get(0);
    download.fetch(archive, (InputStream in) -> TarGzExtractor.extract(in, content));
    if (Files.isRegularFile(content.resolve(SAVED_MODEL))) {
      return content;
    }
    try (Stream<Path> top = Files.list(content)) {
      List<Path> entries = top.toList();
      if (entries.size() == 1 && Files.isRegularFile(entries.get(0).resolve(SAVED_MODEL))) {
        return entries.get(0);
      }
    }
    return content;
  }

  /** One listing of everything under {@code <model>/}: its complete versions. */
  private Map<Long, S3VersionListing> scan(String model) throws IOException {
    String root = base.key(checkedName(model)) + "/";
    Map<Long, List<S3VersionListing.Item>> folders = new TreeMap<>();
    Map<Long, S3VersionListing.Item> archives = new TreeMap<>();
    try {
      for (S3Object o :
          s3.listObjectsV2Paginator(
                  b ->
                      b.bucket(base.bucket())
                          .prefix(root)
                          .overrideConfiguration(c -> c.apiCallTimeout(CALL_TIMEOUT)))
              .contents()) {
        String rest = o.key().substring(root.length());
        int slash = rest.indexOf('/');
        if (slash < 0) {
          OptionalLong v =
              rest.endsWith(ARCHIVE_SUFFIX)
                  ? Identifiers.parseVersion(
                      rest.substring(0, rest.length() - ARCHIVE_SUFFIX.length()))
                  : OptionalLong.empty();
          if (v.isPresent()) {
            archives.put(v.getAsLong(), item(o, rest));
          } else if (!rest.equals(ModelSettings.FILE_NAME)) {
            log.debug("{}: ignoring {}", base, o.key());
          }
          continue;
        }
        OptionalLong v = Identifiers.parseVersion(rest.substring(0, slash));
        String path = rest.substring(slash + 1);
        if (v.isEmpty()) {
          log.debug("{}: ignoring {}: not below a version number", base, o.key());
        } else if (!path.isEmpty()
            && !path.endsWith("/")) { // "folder/" keys are console placeholders
          folders.computeIfAbsent(v.getAsLong(), k -> new ArrayList<>()).add(item(o, path));
        }
      }
    } catch (SdkException e) {
      throw unreachable("list versions in", "s3://" + base.bucket() + "/" + root, e);
    }
    Map<Long, S3VersionListing> versions = new TreeMap<>();
    archives.forEach((v, a) -> versions.put(v, new S3VersionListing(model, v, true, List.of(a))));
    folders.forEach(
        (v, items) -> {
          if (items.stream().anyMatch(i -> i.path().equals(SAVED_MODEL))) {
            // A folder wins over an archive of the same number: it is the layout TF Serving reads.
            versions.put(v, new S3VersionListing(model, v, false, List.copyOf(items)));
          } else if (!archives.containsKey(v)) {
            log.debug(
                "{}: {} version {} has no {} yet (upload in progress?)",
                base,
                model,
                v,
                SAVED_MODEL);
          }
        });
    return versions;
  }

  private static S3VersionListing.Item item(S3Object o, String path) {
    return new S3VersionListing.Item(o.key(), path, o.size(), o.eTag());
  }

  private static String checkedName(String model) {
    if (!Identifiers.isName(model)) {
      throw new IllegalArgumentException("invalid model name " + model);
    }
    return model;
  }

  private static IOException unreachable(String what, String where, SdkException e) {
    return new IOException("cannot " + what + " " + where + ": " + e.getMessage(), e);
  }
}
