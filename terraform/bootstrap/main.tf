# The S3 bucket holding Terraform state for the env stacks. Versioned (every
# state write can be rolled back), encrypted, private, TLS-only. Locking uses
# S3 lock files (backend `use_lockfile = true`), so no DynamoDB table is needed.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  bucket_name = coalesce(var.bucket_name, "${var.project}-tfstate-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}")
}

resource "aws_s3_bucket" "state" {
  bucket = local.bucket_name

  lifecycle {
    # State is precious: `terraform destroy` here must be a deliberate act
    # (remove this block first).
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.state]
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

# ------------------------------------------------------ Terraform from CI ---
# Optional (set github_repository): the roles GitHub Actions and CodeBuild run
# Terraform with. They live here, outside the env stacks, so a pipeline can
# create a stack from nothing and destroy it without deleting its own role.

resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_repository != null && var.github_oidc_provider_arn == null ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

module "terraform_ci" {
  source = "../modules/terraform-ci"
  count  = var.github_repository == null ? 0 : 1

  name                     = var.project
  stack_prefix             = "${var.project}-"
  github_repository        = var.github_repository
  oidc_provider_arn        = coalesce(var.github_oidc_provider_arn, try(aws_iam_openid_connect_provider.github[0].arn, null))
  state_bucket_name        = aws_s3_bucket.state.id
  state_key_prefix         = "${var.project}/"
  codebuild_connection_arn = var.terraform_codebuild_connection_arn
  tfvars_parameter_name    = var.tfvars_parameter_name
}
