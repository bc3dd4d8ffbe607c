# The bucket must be private, encrypted, versioned, TLS-only, and expire
# captured data. Runs against a mock provider: no AWS account needed.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  bucket_name = "ml-serve-ecs-test-models"
}

run "bucket_is_private_encrypted_versioned" {
  command = apply

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "All four public access block settings must be on."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "Default encryption must be SSE-S3 without a KMS key."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" &&
      try(s.Condition.Bool["aws:SecureTransport"], "") == "false" &&
      contains(s.Resource, "arn:aws:s3:::mock-bucket/*")
    ])
    error_message = "The bucket policy must deny every request without TLS."
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.status == "Enabled" && try(one(r.filter).prefix, "") == "capture/" && try(one(r.expiration).days, 0) == 90
    ])
    error_message = "Captured data must expire after capture_expiration_days (90)."
  }

  assert {
    condition     = output.model_base_uri == "s3://${aws_s3_bucket.this.bucket}/models" && output.capture_uri == "s3://${aws_s3_bucket.this.bucket}/capture"
    error_message = "The URIs handed to the service must point at the two prefixes."
  }
}

run "kms_key_switches_to_sse_kms" {
  command = apply

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "With a KMS key the bucket must use SSE-KMS."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "SSE-KMS should use an S3 bucket key (fewer KMS calls)."
  }
}

run "rejects_transition_shorter_than_30_days" {
  command = plan

  variables {
    capture_transition_to_ia_days = 10
  }

  expect_failures = [var.capture_transition_to_ia_days]
}
