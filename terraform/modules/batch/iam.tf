# Four roles, each limited to what it does:
# - task role (the batch container): list the three prefixes, read inputs and
#   models, read/write/delete job outputs, publish to the topic;
# - execution role (ECS starting the task): pull the image, write its log group;
# - state machine role: run this task definition in this cluster and pass its
#   two roles, manage the ECS completion rule the .sync integration uses, start
#   its own child executions (Distributed Map), read plans and manifests,
#   publish failures, deliver its logs;
# - EventBridge role: start this state machine.

locals {
  bucket = var.bucket_arn

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

  task_statements = concat(
    [
      {
        Sid       = "ListJobAndModelPrefixes"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = local.bucket
        Condition = { StringLike = { "s3:prefix" = ["${var.input_prefix}/*", "${var.output_prefix}/*", "${var.models_prefix}/*"] } }
      },
      {
        Sid      = "ReadInputsAndModels"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${local.bucket}/${var.input_prefix}/*", "${local.bucket}/${var.models_prefix}/*"]
      },
      {
        Sid    = "WriteOutputs"
        Effect = "Allow"
        # AbortMultipartUpload: outputs over 16 MiB go up in parts, and a failed upload is aborted
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = "${local.bucket}/${var.output_prefix}/*"
      },
      {
        Sid      = "PublishResults"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = aws_sns_topic.this.arn
      },
    ],
    var.kms_key_arn == null ? [] : [{
      Sid      = "UseBucketKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = var.kms_key_arn
    }],
  )

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
        Resource = "${aws_cloudwatch_log_group.tasks.arn}:*"
      },
    ],
    var.ecr_repository_arn == null ? [] : [{
      Sid      = "PullImage"
      Effect   = "Allow"
      Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Resource = var.ecr_repository_arn
    }],
  )

  machine_statements = [
    {
      Sid       = "RunBatchTask"
      Effect    = "Allow"
      Action    = ["ecs:RunTask"]
      Resource  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${local.family}:*"
      Condition = { ArnEquals = { "ecs:cluster" = var.cluster_arn } }
    },
    {
      Sid      = "FollowBatchTasks"
      Effect   = "Allow"
      Action   = ["ecs:DescribeTasks", "ecs:StopTask"]
      Resource = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.cluster_name}/*"
    },
    {
      Sid       = "PassTaskRoles"
      Effect    = "Allow"
      Action    = ["iam:PassRole"]
      Resource  = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
      Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
    },
    {
      # The .sync integration learns that a task stopped through this managed rule.
      Sid      = "EcsCompletionRule"
      Effect   = "Allow"
      Action   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
      Resource = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForECSTaskRule"
    },
    {
      # A Distributed Map runs each item as a child execution of this state machine.
      Sid      = "RunChildExecutions"
      Effect   = "Allow"
      Action   = ["states:StartExecution"]
      Resource = local.machine_arn
    },
    {
      Sid      = "FollowChildExecutions"
      Effect   = "Allow"
      Action   = ["states:DescribeExecution", "states:StopExecution"]
      Resource = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.machine_name}/*"
    },
    {
      Sid      = "ReadPlansAndManifests"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = "${local.bucket}/${var.output_prefix}/*"
    },
    {
      Sid      = "PublishFailures"
      Effect   = "Allow"
      Action   = ["sns:Publish"]
      Resource = aws_sns_topic.this.arn
    },
    {
      # CloudWatch Logs delivery for state machines takes no resource-level scoping.
      Sid    = "DeliverLogs"
      Effect = "Allow"
      Action = [
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
      ]
      Resource = "*"
    },
  ]
}

resource "aws_iam_role" "task" {
  name               = "${local.family}-task"
  assume_role_policy = local.ecs_tasks_trust
  tags               = var.tags
}

resource "aws_iam_role_policy" "task" {
  name   = "batch-data"
  role   = aws_iam_role.task.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.task_statements })
}

resource "aws_iam_role" "execution" {
  name               = "${local.family}-execution"
  assume_role_policy = local.ecs_tasks_trust
  tags               = var.tags
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-and-log"
  role   = aws_iam_role.execution.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.execution_statements })
}

resource "aws_iam_role" "machine" {
  name = "${local.machine_name}-machine"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.machine_name}" }
      }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "machine" {
  name   = "run-batch"
  role   = aws_iam_role.machine.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.machine_statements })
}

resource "aws_iam_role" "events" {
  name = "${local.machine_name}-events"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "events" {
  name = "start-batch"
  role = aws_iam_role.events.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "StartBatch", Effect = "Allow", Action = ["states:StartExecution"], Resource = local.machine_arn }]
  })
}
