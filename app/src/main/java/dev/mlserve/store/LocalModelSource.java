package dev.mlserve.store;

import dev.mlserve.config.Identifiers;
import dev.mlserve.config.ModelSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Models in a local folder, served in place. */
public final class LocalModelSource implements ModelSource {
  private final Path base;

  public LocalModelSource(Path base) {
    this.base = base.toAbsolutePath().normalize();
  }

  @Override
  public String describe() {
    return base.toString();
  }

  @Override
  public List<String> models() throws IOException {
    if (!Files.isDirectory(base)) {
      throw new IOException("model folder " + base + " does not exist");
    }
    List<String> names = new ArrayList<>();
    try (Stream<Path> children = Files.list(base)) {
      children
          .filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .filter(Identifiers::isName)
          .sorted()
          .forEach(names::add);
    }
    return names;
  }

  @Override
  public SortedSet<Long> versions(String model) throws IOException {
    SortedSet<Long> versions = new TreeSet<>();
    Path dir = modelDir(model);
    if (!Files.isDirectory(dir)) {
      return versions;
    }
    try (Stream<Path> children = Files.list(dir)) {
      children
          .filter(Files::isDirectory)
          .forEach(
              p -> {
                OptionalLong v = Identifiers.parseVersion(p.getFileName().toString());
                if (v.isPresent() && Files.isRegularFile(p.resolve("saved_model.pb"))) {
                  versions.add(v.getAsLong());
                }
              });
    }
    return versions;
  }

  @Override
  public Optional<byte[]> settings(String model) throws IOException {
    Path f = modelDir(model).resolve(ModelSettings.FILE_NAME);
    return Files.isRegularFile(f) ? Optional.of(Files.readAllBytes(f)) : Optional.empty();
  }

  @Override
  public Path materialize(String model, long version) throws IOException {
    Path dir = modelDir(model).resolve(Long.toString(version));
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw new IOException("no SavedModel at " + dir);
    }
    return dir;
  }

  private Path modelDir(String model) {
    if (!Identifiers.isName(model)) {
      throw new IllegalArgumentException("invalid model name " + model);
    }
    return base.resolve(model);
  }
}
