# The release controller's access: a role GitHub Actions assumes through the account's OIDC
# provider (the release workflow), trusted for this repository and branch (or environment) only,
# allowed exactly what a release needs:
# - read the models and their evaluation data under the models prefix,
# - write <model>/serving.json and nothing else,
# - query the service's metrics in Amazon Managed Prometheus,
# - publish decisions to the release topic (created here).


locals {
  oidc_host = "token.actions.githubusercontent.com"

  subject_context = var.github_environment == null ? "ref:refs/heads/${var.github_branch}" : "environment:${var.github_environment}"
  github_subjects = [for r in var.github_repositories : "repo:${r}:${local.subject_context}"]

  prefix        = trim(var.models_prefix, "/")
  models_arn    = "${var.model_bucket_arn}/${local.prefix}/*"
  serving_files = "${var.model_bucket_arn}/${local.prefix}/*/serving.json"
}

resource "aws_sns_topic" "releases" {
  name              = "${var.name}-model-releases"
  kms_master_key_id = var.topic_kms_key_id
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.notification_emails)

  topic_arn = aws_sns_topic.releases.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_iam_role" "release" {
  name                 = "${var.name}-github-release"
  description          = "GitHub Actions in ${join(", ", var.github_repositories)} (${local.subject_context}) release models of ${var.name}"
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([{
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.oidc_host}:aud" = "sts.amazonaws.com"
          "${local.oidc_host}:sub" = local.github_subjects
        }
      }
      }], var.allow_ecs_tasks ? [{
      # scripts/release-model.sh --ecs: the controller as a one-off task of the service's image
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }] : [])
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "release" {
  name = "release"
  role = aws_iam_role.release.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ListModels"
          Effect   = "Allow"
          Action   = ["s3:ListBucket"]
          Resource = [var.model_bucket_arn]
          Condition = {
            StringLike = { "s3:prefix" = ["${local.prefix}/", "${local.prefix}/*"] }
          }
        },
        {
          Sid      = "ReadModelsAndEvaluationData"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:GetObjectVersion"]
          Resource = [local.models_arn]
        },
        {
          Sid      = "WriteServingSettingsOnly"
          Effect   = "Allow"
          Action   = ["s3:PutObject"]
          Resource = [local.serving_files]
        },
        {
          Sid      = "PublishDecisions"
          Effect   = "Allow"
          Action   = ["sns:Publish"]
          Resource = [aws_sns_topic.releases.arn]
        },
      ],
      var.amp_workspace_arn == null ? [] : [{
        Sid      = "QueryServiceMetrics"
        Effect   = "Allow"
        Action   = ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"]
        Resource = [var.amp_workspace_arn]
      }],
      var.model_kms_key_arn == null ? [] : [{
        Sid      = "UseTheModelBucketKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.model_kms_key_arn]
      }],
    )
  })
}
