# The drift report on a schedule: EventBridge Scheduler runs the service's own
# image as a one-off Fargate task with the command `drift --model M --window W`
# (one task definition and one schedule per model).
# The job reads captured predictions and the version's training baseline from
# the bucket, writes a report under reports_prefix, and publishes to the alarm
# topic when a check fails (docs/MONITORING.md).

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  bucket     = var.bucket_name

  environment = {
    MODEL_BASE_PATH     = "s3://${local.bucket}/${var.models_prefix}"
    CAPTURE_S3_URI      = "s3://${local.bucket}/${var.capture_prefix}"
    DRIFT_REPORT_S3_URI = "s3://${local.bucket}/${var.reports_prefix}"
    DRIFT_SNS_TOPIC_ARN = var.sns_topic_arn
    DRIFT_MIN_ROWS      = tostring(var.min_rows)
    AWS_REGION          = local.region
    LOG_FORMAT          = "json"
  }
}

resource "aws_iam_role" "task" {
  name        = "${var.name}-drift"
  description = "The ${var.name} drift job runs with this role (read capture and baselines, write reports, publish)"
  assume_role_policy = jsonencode({
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

  tags = var.tags
}

resource "aws_iam_role_policy" "task" {
  name = "drift-report"
  role = aws_iam_role.task.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "ListCaptureAndBaselines"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = var.bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.capture_prefix}/*", "${var.models_prefix}/*"] } }
      },
      {
        Sid      = "ReadCaptureAndBaselines"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${var.bucket_arn}/${var.capture_prefix}/*", "${var.bucket_arn}/${var.models_prefix}/*"]
      },
      {
        Sid      = "WriteReports"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = "${var.bucket_arn}/${var.reports_prefix}/*"
      },
      {
        Sid      = "PublishViolations"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = var.sns_topic_arn
      },
      ], var.bucket_kms_key_arn == null ? [] : [{
        Sid      = "UseBucketKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.bucket_kms_key_arn
    }])
  })
}

# One task definition per model, its command baked in: the schedule needs no
# container overrides.
resource "aws_ecs_task_definition" "this" {
  for_each = toset(var.models)

  family                   = "${var.name}-drift-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = var.execution_role_arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The job downloads each version's baseline (with its model) into /tmp; the root stays read-only.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name                   = "drift"
    image                  = var.image
    essential              = true
    command                = ["drift", "--model", each.key, "--window", var.window]
    environment            = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
    readonlyRootFilesystem = true
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = var.log_group_name
        awslogs-region        = local.region
        awslogs-stream-prefix = "drift"
      }
    }
  }])

  tags = var.tags
}

# ------------------------------------------------------------- schedule ---

resource "aws_iam_role" "scheduler" {
  name        = "${var.name}-drift-scheduler"
  description = "EventBridge Scheduler starts the ${var.name} drift job with this role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name = "run-drift-task"
  role = aws_iam_role.scheduler.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "RunDriftTask"
        Effect    = "Allow"
        Action    = ["ecs:RunTask"]
        Resource  = [for td in aws_ecs_task_definition.this : "${td.arn_without_revision}:*"]
        Condition = { ArnEquals = { "ecs:cluster" = var.cluster_arn } }
      },
      {
        Sid       = "PassDriftRoles"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [aws_iam_role.task.arn, var.execution_role_arn]
        Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
    ]
  })
}

resource "aws_scheduler_schedule" "this" {
  for_each = toset(var.models)

  name                         = "${var.name}-drift-${each.key}"
  description                  = "Drift report of ${each.key} over the last ${var.window}"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.this[each.key].arn
      launch_type         = "FARGATE"
      task_count          = 1

      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = var.security_group_ids
        assign_public_ip = var.assign_public_ip
      }
    }

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }
  }
}
