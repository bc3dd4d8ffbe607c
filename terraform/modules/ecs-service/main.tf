# Cluster, logs, task definition and the Fargate service. The load balancer,
# security groups, IAM and autoscaling live in their own files.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # stopTimeout: the drain time, plus up to 10 s for the last data-capture flush and the JVM's
  # exit, plus a margin; capped by Fargate's 120 s.
  stop_timeout = min(var.shutdown_timeout_seconds + 15, 120)

  # The service's contract. Listed last so extra_environment cannot override it.
  environment = merge(var.extra_environment, {
    PORT                     = tostring(var.container_port)
    MODEL_BASE_PATH          = var.model_base_path
    MODEL_POLL_SECONDS       = tostring(var.model_poll_seconds)
    CAPTURE_S3_URI           = var.capture_s3_uri
    CAPTURE_SAMPLE_PERCENT   = tostring(var.capture_sample_percent)
    LOW_CONFIDENCE_BAND      = var.low_confidence_band
    LOG_FORMAT               = var.log_format
    SHUTDOWN_TIMEOUT_SECONDS = tostring(var.shutdown_timeout_seconds)
    AWS_REGION               = local.region
    }, var.api_tokens_secret_arn == null ? {} : {
    API_TOKENS_SECRET_ID       = var.api_tokens_secret_arn
    API_TOKENS_REFRESH_SECONDS = tostring(var.api_tokens_refresh_seconds)
  })

  # The API tokens come in through valueFrom like every other secret.
  secrets = merge(var.secrets, var.api_tokens_secret_arn == null ? {} : { API_TOKENS = var.api_tokens_secret_arn })

  container = {
    name      = var.container_name
    image     = var.image
    essential = true

    portMappings = [{
      name          = "http"
      containerPort = var.container_port
      hostPort      = var.container_port
      protocol      = "tcp"
      appProtocol   = "http"
    }]

    environment = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
    secrets     = [for k in sort(keys(local.secrets)) : { name = k, valueFrom = local.secrets[k] }]

    healthCheck = {
      command     = var.health_check_command
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = var.health_check_start_period
    }

    stopTimeout            = local.stop_timeout
    readonlyRootFilesystem = var.readonly_root_filesystem
    mountPoints            = var.readonly_root_filesystem ? [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }] : []
    ulimits                = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = var.container_name
        # Never block the request path on CloudWatch; 25 MB absorbs bursts.
        mode            = "non-blocking"
        max-buffer-size = "25m"
      }
    }
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn

  # TensorFlow's native libraries in the image are built for x86_64.
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  dynamic "volume" {
    for_each = var.readonly_root_filesystem ? ["tmp"] : []
    content {
      name = volume.value
    }
  }

  container_definitions = jsonencode([local.container])

  tags = var.tags
}

locals {
  # Shared by both service variants below.
  service = {
    name          = var.name
    cluster       = aws_ecs_cluster.this.id
    desired_count = var.desired_count
  }
}

# Terraform cannot make ignore_changes conditional, so there are two variants of
# the service and exactly one exists: "this" when Terraform deploys task
# definitions, "ci_deployed" when CI does. Keep their bodies identical.
resource "aws_ecs_service" "this" {
  count = var.ci_deploys ? 0 : 1

  name                               = local.service.name
  cluster                            = local.service.cluster
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = local.service.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  availability_zone_rebalancing      = "ENABLED"
  enable_execute_command             = var.enable_execute_command
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = var.wait_for_steady_state

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  deployment_controller {
    type = "ECS"
  }

  network_configuration {
    subnets          = coalesce(var.task_subnet_ids, var.subnet_ids)
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = var.container_name
    container_port   = var.container_port
  }

  tags = var.tags

  lifecycle {
    # Autoscaling owns the task count after creation.
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.http, aws_lb_listener.https, aws_iam_role_policy.task]
}

resource "aws_ecs_service" "ci_deployed" {
  count = var.ci_deploys ? 1 : 0

  name                               = local.service.name
  cluster                            = local.service.cluster
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = local.service.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  availability_zone_rebalancing      = "ENABLED"
  enable_execute_command             = var.enable_execute_command
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = var.wait_for_steady_state

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  deployment_controller {
    type = "ECS"
  }

  network_configuration {
    subnets          = coalesce(var.task_subnet_ids, var.subnet_ids)
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = var.container_name
    container_port   = var.container_port
  }

  tags = var.tags

  lifecycle {
    # Autoscaling owns the task count; CI owns the task definition revision.
    ignore_changes = [desired_count, task_definition]
  }

  depends_on = [aws_lb_listener.http, aws_lb_listener.https, aws_iam_role_policy.task]
}

locals {
  service_name = var.ci_deploys ? aws_ecs_service.ci_deployed[0].name : aws_ecs_service.this[0].name
  service_arn  = var.ci_deploys ? aws_ecs_service.ci_deployed[0].id : aws_ecs_service.this[0].id
}
