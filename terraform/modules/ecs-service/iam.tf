# Two roles, each limited to what it must do:
# - execution role (used by ECS to start the task): pull this image, write this
#   log group, read exactly the listed secrets;
# - task role (used by the service): read the models prefix, write the capture
#   prefix, re-read the API token secret when there is one, nothing else.

locals {
  ecs_tasks_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:*" }
      }
    }]
  })

  bucket_arn     = var.model_bucket_arn
  ssm_secrets    = [for v in values(local.secrets) : v if can(regex("^arn:aws[a-z-]*:ssm:", v))]
  secretsmanager = distinct([for v in values(local.secrets) : v if can(regex("^arn:aws[a-z-]*:secretsmanager:", v))])

  execution_statements = concat(
    [
      {
        Sid      = "EcrAuth"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.this.arn}:*"
      },
    ],
    var.ecr_repository_arn == null ? [] : [{
      Sid      = "PullImage"
      Effect   = "Allow"
      Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Resource = var.ecr_repository_arn
    }],
    length(local.ssm_secrets) == 0 ? [] : [{
      Sid      = "ReadSsmSecrets"
      Effect   = "Allow"
      Action   = ["ssm:GetParameters"]
      Resource = local.ssm_secrets
    }],
    length(local.secretsmanager) == 0 ? [] : [{
      Sid      = "ReadSecretsManagerSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = local.secretsmanager
    }],
    length(var.secrets_kms_key_arns) == 0 ? [] : [{
      Sid      = "DecryptSecrets"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = var.secrets_kms_key_arns
    }],
  )

  task_statements = concat(
    [
      {
        Sid       = "ListModels"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = local.bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.models_prefix}/*"] } }
      },
      {
        Sid      = "ReadModels"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${local.bucket_arn}/${var.models_prefix}/*"
      },
      {
        Sid      = "WriteCapture"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = "${local.bucket_arn}/${var.capture_prefix}/*"
      },
    ],
    var.model_bucket_kms_key_arn == null ? [] : [{
      Sid      = "UseBucketKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = var.model_bucket_kms_key_arn
    }],
    var.api_tokens_secret_arn == null ? [] : [{
      Sid      = "RereadApiTokens"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = var.api_tokens_secret_arn
    }],
    var.api_tokens_secret_arn == null || length(var.secrets_kms_key_arns) == 0 ? [] : [{
      Sid      = "DecryptApiTokens"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = var.secrets_kms_key_arns
    }],
    !var.enable_execute_command ? [] : [{
      Sid      = "EcsExec"
      Effect   = "Allow"
      Action   = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
      Resource = "*"
    }],
  )
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "ECS starts ${var.name} tasks with this role (image pull, logs, secrets)"
  assume_role_policy = local.ecs_tasks_trust

  tags = var.tags
}

resource "aws_iam_role_policy" "execution" {
  name = "start-task"
  role = aws_iam_role.execution.id

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.execution_statements
  })
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  description        = "The ${var.name} service runs with this role (models read, capture write)"
  assume_role_policy = local.ecs_tasks_trust

  tags = var.tags
}

resource "aws_iam_role_policy" "task" {
  name = "model-store"
  role = aws_iam_role.task.id

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.task_statements
  })
}
