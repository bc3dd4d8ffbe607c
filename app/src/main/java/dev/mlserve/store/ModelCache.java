package dev.mlserve.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local copies of downloaded model versions: {@code <root>/<model>/<version>/}. A version is
 * assembled in {@code <root>/.staging/} and renamed into place in one atomic step, with a marker
 * file written last, so the loader never sees a half-written version; a crash leaves only staging
 * debris, which the next start removes. One process per cache folder.
 */
final class ModelCache {
  /** Written last into a complete copy: the listing it came from and the files it holds. */
  static final String MARKER = ".mlserve-cache.json";

  private static final Logger log = LoggerFactory.getLogger(ModelCache.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;
  private final Path staging;

  /** The marker's content. */
  record Marker(List<Source> sources, Map<String, Long> files) {}

  /** One listed object a copy was made from. */
  record Source(String key, long size, String eTag) {}

  ModelCache(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.staging = this.root.resolve(".staging");
    Files.createDirectories(root);
    if (Files.exists(staging)) {
      deleteTree(staging); // debris of a download cut short by a crash or kill
    }
    Files.createDirectories(staging);
  }

  Path versionDir(String model, long version) {
    return root.resolve(model).resolve(Long.toString(version));
  }

  /**
   * The cached copy when it came from exactly these objects and still holds every file at its
   * recorded size (a truncated or deleted file means downloading again).
   */
  java.util.Optional<Path> reusable(String model, long version, List<Source> sources) {
    Path dir = versionDir(model, version);
    Path marker = dir.resolve(MARKER);
    if (!Files.isRegularFile(marker)) {
      return java.util.Optional.empty();
    }
    try {
      Marker m = JSON.readValue(marker.toFile(), Marker.class);
      if (!m.sources().equals(sources)) {
        log.info("cached {} v{} came from other objects; downloading again", model, version);
        return java.util.Optional.empty();
      }
      for (var f : m.files().entrySet()) {
        Path p = SafePaths.resolveInside(dir, f.getKey());
        if (!Files.isRegularFile(p) || Files.size(p) != f.getValue()) {
          log.warn(
              "cached {} v{}: {} is missing or has changed; downloading again",
              model,
              version,
              f.getKey());
          return java.util.Optional.empty();
        }
      }
      return java.util.Optional.of(dir);
    } catch (IOException e) {
      log.warn("cached {} v{} unreadable ({}); downloading again", model, version, e.getMessage());
      return java.util.Optional.empty();
    }
  }

  /** A fresh, empty staging folder for one download. */
  Path newStaging(String model, long version) throws IOException {
    return Files.createDirectory(staging.resolve(model + "-" + version + "-" + UUID.randomUUID()));
  }

  /**
   * Makes {@code assembled} (inside a staging folder) the cached copy of the version: flushes its
   * files to disk, writes the marker last, and renames it into place atomically.
   */
  Path commit(Path assembled, String model, long version, List<Source> sources) throws IOException {
    Map<String, Long> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(assembled)) {
      for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
        files.put(assembled.relativize(p).toString().replace('\\', '/'), Files.size(p));
        sync(p);
      }
    }
    Path marker = assembled.resolve(MARKER);
    JSON.writeValue(marker.toFile(), new Marker(sources, files));
    sync(marker);
    Path target = versionDir(model, version);
    Files.createDirectories(target.getParent());
    if (Files.exists(target)) {
      // A stale or damaged copy: step it aside first, since a folder cannot be renamed over
      // another.
      discard(moveAside(target));
    }
    try {
      Files.move(assembled, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cache folder " + root + " cannot rename atomically", e);
    }
    return target;
  }

  /** Removes the version's cached copy, if any. */
  void evict(String model, long version) {
    Path dir = versionDir(model, version);
    if (!Files.exists(dir)) {
      return;
    }
    try {
      discard(moveAside(dir));
      log.info("removed the cached copy of {} v{}", model, version);
    } catch (IOException e) {
      log.warn("could not remove the cached copy of {} v{}: {}", model, version, e.toString());
    }
  }

  /** Deletes a staging or set-aside folder; failures are logged, not thrown. */
  void discard(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException e) {
      log.warn("could not delete {}: {}", dir, e.toString());
    }
  }

  private Path moveAside(Path dir) throws IOException {
    Path aside = staging.resolve("old-" + UUID.randomUUID());
    Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
    return aside;
  }

  private static void sync(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            Files.deleteIfExists(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
