package dev.mlserve.store;

import java.util.List;

/**
 * What the bucket holds for one model version at listing time: either a folder of objects or one
 * {@code <version>.tar.gz}. The listing's sizes and ETags are what the download is checked against,
 * and what a cached copy must match to be reused.
 */
record S3VersionListing(
    String model, long version, boolean archive, List<S3VersionListing.Item> items) {

  /**
   * One object.
   *
   * @param key the full S3 key
   * @param path the path below the version folder (the archive's file name for a tar.gz)
   */
  record Item(String key, String path, long size, String eTag) {}

  long totalBytes() {
    return items.stream().mapToLong(Item::size).sum();
  }
}
