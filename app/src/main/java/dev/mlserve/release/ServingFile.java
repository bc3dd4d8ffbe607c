package dev.mlserve.release;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserve.config.Identifiers;
import dev.mlserve.config.ModelSettings;
import dev.mlserve.store.S3Location;
import java.io.IOException;
import java.util.Optional;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A model's {@code serving.json} in the bucket, read with its ETag and written back only if nobody
 * changed it since ({@code If-Match}; {@code If-None-Match: *} when it did not exist), so two
 * releases or a person's edit are never silently overwritten. Nothing the service would refuse is
 * ever uploaded: the new content is parsed with the service's own {@link ModelSettings#parse}
 * first. Bucket versioning keeps every earlier content.
 */
final class ServingFile {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The file's content (an empty object when absent) and the ETag it was read with. */
  record Snapshot(ObjectNode json, Optional<String> etag) {}

  /** Someone else wrote serving.json between our read and our write. */
  static final class ConcurrentEditException extends RuntimeException {
    ConcurrentEditException(String message) {
      super(message);
    }
  }

  /** The content would be refused by the service; it was not uploaded. */
  static final class InvalidSettingsException extends RuntimeException {
    InvalidSettingsException(String message) {
      super(message);
    }
  }

  private final S3Client s3;
  private final S3Location base;

  ServingFile(S3Client s3, S3Location base) {
    this.s3 = s3;
    this.base = base;
  }

  String uri(String model) {
    return "s3://" + base.bucket() + "/" + key(model);
  }

  private String key(String model) {
    if (!Identifiers.isName(model)) {
      throw new IllegalArgumentException("invalid model name '" + model + "'");
    }
    return base.key(model + "/" + ModelSettings.FILE_NAME);
  }

  Snapshot read(String model) throws IOException {
    try {
      ResponseBytes<GetObjectResponse> got =
          s3.getObjectAsBytes(b -> b.bucket(base.bucket()).key(key(model)));
      var tree = JSON.readTree(got.asByteArray());
      if (tree == null || !tree.isObject()) {
        throw new InvalidSettingsException(uri(model) + " is not a JSON object");
      }
      return new Snapshot((ObjectNode) tree, Optional.of(got.response().eTag()));
    } catch (NoSuchKeyException e) {
      return new Snapshot(JSON.createObjectNode(), Optional.empty());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InvalidSettingsException(
          uri(model) + " is not valid JSON (" + e.getOriginalMessage() + ")");
    }
  }

  /**
   * Writes {@code json} if serving.json still has the ETag of {@code readWith}; returns the
   * snapshot now in the bucket.
   *
   * @throws InvalidSettingsException when the service would refuse the content
   * @throws ConcurrentEditException when the file changed (or appeared) since it was read
   */
  Snapshot write(String model, ObjectNode json, Snapshot readWith) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try {
      ModelSettings.parse(bytes);
    } catch (IllegalArgumentException e) {
      throw new InvalidSettingsException(
          "refusing to upload " + uri(model) + ": the service would reject it: " + e.getMessage());
    }
    PutObjectRequest.Builder put =
        PutObjectRequest.builder()
            .bucket(base.bucket())
            .key(key(model))
            .contentType("application/json");
    readWith.etag().ifPresentOrElse(put::ifMatch, () -> put.ifNoneMatch("*"));
    try {
      String etag = s3.putObject(put.build(), RequestBody.fromBytes(bytes)).eTag();
      return new Snapshot(json.deepCopy(), Optional.ofNullable(etag));
    } catch (S3Exception e) {
      // 412 Precondition Failed; 409 when a concurrent conditional write is still in progress
      if (e.statusCode() == 412 || e.statusCode() == 409) {
        throw new ConcurrentEditException(
            uri(model)
                + " changed since it was read (ETag "
                + readWith.etag().orElse("none: it did not exist")
                + "); nothing was overwritten. Run `release status` to see what is there now.");
      }
      throw e;
    }
  }
}
