# Batch scoring: a "<input_prefix>/<job>/_READY" object (or a manual start)
# starts a Standard state machine that plans the job, fans the parts out to
# Fargate tasks with a Distributed Map, merges them, reads the manifest and
# notifies. The tasks run the service's own image with `batch <step>`.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  container     = "batch"
  family        = "${var.name}-batch"
  machine_name  = "${var.name}-batch"
  machine_arn   = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.machine_name}"
  cluster_name  = element(split("/", var.cluster_arn), length(split("/", var.cluster_arn)) - 1)
  job_key_index = length(split("/", var.input_prefix))

  environment = merge(
    {
      MODEL_BASE_PATH     = "s3://${var.bucket_name}/${var.models_prefix}"
      LOG_FORMAT          = "json"
      AWS_REGION          = local.region
      BATCH_SNS_TOPIC_ARN = aws_sns_topic.this.arn
      BATCH_SPLIT_BYTES   = tostring(var.split_bytes)
    },
    var.model_name == null ? {} : { BATCH_MODEL = var.model_name },
    var.environment,
  )
}

resource "aws_cloudwatch_log_group" "tasks" {
  name              = "/ecs/${local.family}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "machine" {
  name              = "/aws/vendedlogs/states/${local.machine_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "tasks" {
  name        = "${local.family}-tasks"
  description = "Batch scoring tasks: no inbound; HTTPS out to S3, ECR, SNS and logs"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_ecs_task_definition" "this" {
  family                   = local.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  ephemeral_storage {
    size_in_gib = var.ephemeral_storage_gib
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name                   = local.container
    image                  = var.image
    essential              = true
    command                = ["batch", "run"] # the state machine overrides it per step
    environment            = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
    readonlyRootFilesystem = true
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.tasks.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "batch"
      }
    }
  }])

  volume {
    name = "tmp"
  }

  tags = var.tags
}

resource "aws_sns_topic" "this" {
  name = "${var.name}-batch-results"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.notification_emails)
  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sfn_state_machine" "this" {
  name       = local.machine_name
  type       = "STANDARD" # .sync ECS integration and Distributed Map need Standard
  role_arn   = aws_iam_role.machine.arn
  definition = jsonencode(local.definition)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.machine.arn}:*"
    include_execution_data = false
    level                  = "ERROR"
  }

  tags = var.tags
}

# ------------------------------------------------------------ the trigger ---

resource "aws_s3_bucket_notification" "eventbridge" {
  count       = var.enable_bucket_eventbridge ? 1 : 0
  bucket      = var.bucket_name
  eventbridge = true
}

resource "aws_cloudwatch_event_rule" "ready" {
  name        = "${var.name}-batch-ready"
  description = "A ${var.input_prefix}/<job>/_READY object starts batch job <job>"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.bucket_name] }
      object = { key = [{ wildcard = "${var.input_prefix}/*/_READY" }] }
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "machine" {
  rule     = aws_cloudwatch_event_rule.ready.name
  arn      = aws_sfn_state_machine.this.arn
  role_arn = aws_iam_role.events.arn

  input_transformer {
    input_paths    = { key = "$.detail.object.key" }
    input_template = "{\"key\": <key>}"
  }
}
