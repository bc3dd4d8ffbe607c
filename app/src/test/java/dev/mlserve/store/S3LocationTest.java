package dev.mlserve.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class S3LocationTest {

  @Test
  void parsesBucketAndPrefix() {
    S3Location l = S3Location.parse("s3://my-bucket/models/prod/");
    assertThat(l.bucket()).isEqualTo("my-bucket");
    assertThat(l.prefix()).isEqualTo("models/prod");
    assertThat(l.key("m/1/saved_model.pb")).isEqualTo("models/prod/m/1/saved_model.pb");
    assertThat(l.folder()).isEqualTo("models/prod/");
    assertThat(l).hasToString("s3://my-bucket/models/prod");
  }

  @Test
  void aBareBucketIsItsRoot() {
    S3Location l = S3Location.parse("s3://my-bucket");
    assertThat(l.prefix()).isEmpty();
    assertThat(l.key("m/serving.json")).isEqualTo("m/serving.json");
    assertThat(l.folder()).isEmpty();
    assertThat(S3Location.parse("s3://my-bucket/").prefix()).isEmpty();
  }

  @Test
  void refusesWhatIsNotAnS3Location() {
    assertThatThrownBy(() -> S3Location.parse("/models"))
        .hasMessageContaining("s3://bucket/prefix");
    assertThatThrownBy(() -> S3Location.parse("s3://")).hasMessageContaining("invalid bucket");
    assertThatThrownBy(() -> S3Location.parse("s3://b/x")).hasMessageContaining("invalid bucket");
    assertThatThrownBy(() -> S3Location.parse("s3://bucket//models"))
        .hasMessageContaining("invalid key prefix");
    assertThatThrownBy(() -> S3Location.parse("s3://bucket/a//b"))
        .hasMessageContaining("invalid key prefix");
  }
}
