# Metrics: an AWS Distro for OpenTelemetry collector sidecar that scrapes the
# service's /metrics on localhost and remote-writes to Amazon Managed Service
# for Prometheus (config from the prometheus module), the task role's
# permission to write to that one workspace, and an ALB rule that keeps
# /metrics off the internet.

variable "metrics_sidecar" {
  type = object({
    config        = string
    workspace_arn = string
    image         = optional(string, "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3")
    cpu           = optional(number, 128)
    memory        = optional(number, 256)
  })
  description = "ADOT collector sidecar: `config` is the collector YAML (the prometheus module's adot_config output, passed as AOT_CONFIG_CONTENT), `workspace_arn` the only workspace the task role may remote-write to; `image` is pinned by tag (pin a digest in production). null: no sidecar."
  default     = null
}

variable "block_public_metrics" {
  type        = bool
  description = "Answer 404 at the load balancer for /metrics and /metrics/* so the metrics are reachable only inside the task (by the sidecar)."
  default     = true
}

locals {
  sidecar_name = "adot-collector"

  sidecars = var.metrics_sidecar == null ? [] : [{
    name      = local.sidecar_name
    image     = var.metrics_sidecar.image
    essential = false # a collector failure loses metrics, never predictions
    cpu       = var.metrics_sidecar.cpu
    memory    = var.metrics_sidecar.memory

    # The collector reads its whole configuration from this variable.
    environment = [{ name = "AOT_CONFIG_CONTENT", value = var.metrics_sidecar.config }]

    dependsOn              = [{ containerName = var.container_name, condition = "START" }]
    readonlyRootFilesystem = true

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = local.sidecar_name
        mode                  = "non-blocking"
        max-buffer-size       = "4m"
      }
    }
  }]

  # The listener that forwards to the service: HTTPS when there is a certificate.
  forwarding_listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
}

resource "aws_iam_role_policy" "remote_write" {
  count = var.metrics_sidecar == null ? 0 : 1

  name = "prometheus-remote-write"
  role = aws_iam_role.task.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "RemoteWriteMetrics"
      Effect   = "Allow"
      Action   = ["aps:RemoteWrite"]
      Resource = var.metrics_sidecar.workspace_arn
    }]
  })
}

resource "aws_lb_listener_rule" "hide_metrics" {
  count = var.block_public_metrics ? 1 : 0

  listener_arn = local.forwarding_listener_arn
  priority     = 1

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = "{\"error\": \"not found\"}"
      status_code  = "404"
    }
  }

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*"]
    }
  }

  tags = var.tags
}

output "metrics_sidecar_config" {
  description = "The ADOT collector config the task definition's sidecar runs with (null without a sidecar)."
  value       = try(local.sidecars[0].environment[0].value, null)
}
