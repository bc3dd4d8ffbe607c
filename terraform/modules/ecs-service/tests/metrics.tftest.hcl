# The metrics sidecar (ADOT -> Amazon Managed Service for Prometheus), the task
# role's remote-write scope, and /metrics hidden at the load balancer.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name               = "mlserve-test"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  image              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlserve:0123456789abcdef0123456789abcdef01234567"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:123456789012:repository/mlserve"
  model_bucket_arn   = "arn:aws:s3:::mlserve-models"
  model_base_path    = "s3://mlserve-models/models"
  capture_s3_uri     = "s3://mlserve-models/capture"
  metrics_sidecar = {
    config        = "receivers: {prometheus: {}}\n"
    workspace_arn = "arn:aws:aps:eu-west-1:123456789012:workspace/ws-1111"
  }
}

run "sidecar_scrapes_and_writes_to_one_workspace" {
  command = apply

  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.this.container_definitions) : c.name] == ["app", "adot-collector"]
    error_message = "The task runs the service and the ADOT collector."
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[1].image == "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3" &&
      jsondecode(aws_ecs_task_definition.this.container_definitions)[1].essential == false &&
      jsondecode(aws_ecs_task_definition.this.container_definitions)[1].readonlyRootFilesystem == true
    )
    error_message = "The collector image is pinned, non-essential (its failure never stops predictions) and read-only."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[1].environment == [{ name = "AOT_CONFIG_CONTENT", value = "receivers: {prometheus: {}}\n" }]
    error_message = "The collector gets exactly the given config in AOT_CONFIG_CONTENT."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[1].dependsOn == [{ containerName = "app", condition = "START" }]
    error_message = "The collector starts after the service."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[1].logConfiguration.options.awslogs-stream-prefix == "adot-collector"
    error_message = "The collector logs to the service's log group under its own prefix."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role_policy.remote_write[0].policy).Statement == [{
        Sid      = "RemoteWriteMetrics"
        Effect   = "Allow"
        Action   = ["aps:RemoteWrite"]
        Resource = "arn:aws:aps:eu-west-1:123456789012:workspace/ws-1111"
      }] &&
      aws_iam_role_policy.remote_write[0].role == aws_iam_role.task.id
    )
    error_message = "The task role may aps:RemoteWrite to that one workspace, nothing more."
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.task.policy, "aps:")
    error_message = "The model-store policy stays free of Prometheus permissions."
  }
}

run "metrics_answer_404_at_the_load_balancer" {
  command = apply

  assert {
    condition = (
      aws_lb_listener_rule.hide_metrics[0].listener_arn == aws_lb_listener.http.arn &&
      aws_lb_listener_rule.hide_metrics[0].priority == 1 &&
      one(aws_lb_listener_rule.hide_metrics[0].condition).path_pattern[0].values == toset(["/metrics", "/metrics/*"])
    )
    error_message = "The forwarding listener answers /metrics itself, before any forward rule."
  }

  assert {
    condition = (
      aws_lb_listener_rule.hide_metrics[0].action[0].type == "fixed-response" &&
      aws_lb_listener_rule.hide_metrics[0].action[0].fixed_response[0].status_code == "404"
    )
    error_message = "/metrics gets a fixed 404 from the load balancer."
  }
}

run "with_https_the_rule_sits_on_the_https_listener" {
  command = apply

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0000"
  }

  assert {
    condition     = aws_lb_listener_rule.hide_metrics[0].listener_arn == aws_lb_listener.https[0].arn
    error_message = "With a certificate, port 80 redirects and the HTTPS listener hides /metrics."
  }
}

run "no_sidecar_no_permission" {
  command = apply

  variables {
    metrics_sidecar = null
  }

  assert {
    condition = (
      length(jsondecode(aws_ecs_task_definition.this.container_definitions)) == 1 &&
      length(aws_iam_role_policy.remote_write) == 0 &&
      length(aws_lb_listener_rule.hide_metrics) == 1
    )
    error_message = "Without a sidecar: one container, no remote-write permission, and /metrics still hidden."
  }
}
