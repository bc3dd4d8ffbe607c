package dev.mlserve.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts a {@code .tar.gz} of regular files and folders with Commons Compress (ustar, GNU long
 * names, PAX headers). Refuses links, devices and any entry whose name would land outside the
 * target folder, so a crafted archive cannot write anywhere else or smuggle in a symlink.
 */
final class TarGzExtractor {
  private TarGzExtractor() {}

  /**
   * Extracts into {@code target} (which must exist) and closes {@code gz}; returns the file count.
   */
  static int extract(InputStream gz, Path target) throws IOException {
    int files = 0;
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new GZIPInputStream(gz, 64 * 1024))) {
      TarArchiveEntry entry;
      while ((entry = next(tar)) != null) {
        String name = entry.getName();
        if (entry.isSymbolicLink() || entry.isLink()) {
          throw new IOException(
              "refusing a tar link entry '" + name + "': only files and folders are allowed");
        } else if (entry.isDirectory()) {
          if (!isTop(name)) { // "./" is the target itself
            Files.createDirectories(SafePaths.resolveInside(target, name));
          }
        } else if (entry.isFile()
            && !entry.isCharacterDevice()
            && !entry.isBlockDevice()
            && !entry.isFIFO()
            && !entry.isGlobalPaxHeader()) {
          Path file = SafePaths.resolveInside(target, name);
          Files.createDirectories(file.getParent());
          if (Files.exists(file)) {
            throw new IOException("archive holds '" + name + "' twice");
          }
          Files.copy(tar, file, StandardCopyOption.REPLACE_EXISTING);
          if (Files.size(file) != entry.getSize()) {
            throw new IOException("archive truncated in '" + name + "'");
          }
          files++;
        } else {
          throw new IOException(
              "refusing tar entry '" + name + "': only files and folders are allowed");
        }
      }
    }
    return files;
  }

  /** The next entry; a first block that is no tar header reads as what it is. */
  private static TarArchiveEntry next(TarArchiveInputStream tar) throws IOException {
    try {
      return tar.getNextEntry();
    } catch (IllegalArgumentException | IOException e) {
      if (e.getMessage() != null && e.getMessage().contains("truncated")) {
        throw new IOException("archive truncated", e);
      }
      throw new IOException("not a tar archive, or a corrupt one (" + e.getMessage() + ")", e);
    }
  }

  private static boolean isTop(String name) {
    return name.isEmpty() || name.equals(".") || name.equals("./");
  }
}
