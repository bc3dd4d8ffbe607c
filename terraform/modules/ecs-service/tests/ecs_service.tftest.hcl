# Security and reliability properties of the service, checked on a mock
# provider: least-privilege roles, tasks reachable only from the load balancer,
# the deployment circuit breaker, drain timing, logs, scaling.

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
}

run "defaults_are_safe" {
  command = apply

  # --- deployments -----------------------------------------------------------
  assert {
    condition     = length(aws_ecs_service.this) == 0 && length(aws_ecs_service.ci_deployed) == 1
    error_message = "By default CI deploys: only the variant ignoring task_definition exists."
  }

  assert {
    condition = (
      one(aws_ecs_service.ci_deployed[0].deployment_circuit_breaker).enable &&
      one(aws_ecs_service.ci_deployed[0].deployment_circuit_breaker).rollback
    )
    error_message = "The deployment circuit breaker must be on, with rollback."
  }

  assert {
    condition     = aws_ecs_service.ci_deployed[0].deployment_minimum_healthy_percent == 100 && aws_ecs_service.ci_deployed[0].launch_type == "FARGATE"
    error_message = "Rolling deploys must keep full capacity on Fargate."
  }

  # --- network exposure --------------------------------------------------------
  assert {
    condition     = one(aws_ecs_service.ci_deployed[0].network_configuration).security_groups == toset([aws_security_group.tasks.id])
    error_message = "Tasks must run in the tasks security group only."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.tasks_from_alb.referenced_security_group_id == aws_security_group.alb.id &&
      aws_vpc_security_group_ingress_rule.tasks_from_alb.cidr_ipv4 == null &&
      aws_vpc_security_group_ingress_rule.tasks_from_alb.from_port == 8080 &&
      aws_vpc_security_group_ingress_rule.tasks_from_alb.to_port == 8080
    )
    error_message = "Tasks must accept only the load balancer's security group, on the service port."
  }

  assert {
    condition = alltrue([
      for r in aws_vpc_security_group_ingress_rule.alb_listeners : r.security_group_id == aws_security_group.alb.id
    ]) && keys(aws_vpc_security_group_ingress_rule.alb_listeners) == ["80-0.0.0.0/0"]
    error_message = "Without a certificate the load balancer must open port 80 only."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.alb_to_tasks.referenced_security_group_id == aws_security_group.tasks.id
    error_message = "The load balancer may only talk to the tasks."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.tasks_https.from_port == 443 && aws_vpc_security_group_egress_rule.tasks_https.to_port == 443
    error_message = "Tasks may only go out on HTTPS."
  }

  # --- load balancer -------------------------------------------------------------
  assert {
    condition = (
      aws_lb_target_group.this.target_type == "ip" &&
      one(aws_lb_target_group.this.health_check).path == "/v2/health/ready" &&
      one(aws_lb_target_group.this.health_check).matcher == "200"
    )
    error_message = "Targets must be task IPs, health-checked on the readiness endpoint."
  }

  assert {
    condition     = tonumber(aws_lb_target_group.this.deregistration_delay) == 20
    error_message = "Deregistration delay must equal SHUTDOWN_TIMEOUT_SECONDS (20)."
  }

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields
    error_message = "The load balancer must drop invalid header fields."
  }

  assert {
    condition     = length(aws_lb_listener.https) == 0 && one(aws_lb_listener.http.default_action).type == "forward"
    error_message = "Without a certificate, port 80 forwards to the service."
  }

  # --- container ------------------------------------------------------------------
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].stopTimeout == 35
    error_message = "stopTimeout must be the drain time plus 15 s."
  }

  assert {
    condition = (
      { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value } == {
        PORT                     = "8080"
        MODEL_BASE_PATH          = "s3://mlserve-models/models"
        MODEL_POLL_SECONDS       = "60"
        CAPTURE_S3_URI           = "s3://mlserve-models/capture"
        CAPTURE_SAMPLE_PERCENT   = "10"
        LOW_CONFIDENCE_BAND      = "0.4,0.6"
        LOG_FORMAT               = "json"
        SHUTDOWN_TIMEOUT_SECONDS = "20"
        AWS_REGION               = "eu-west-1"
      }
    )
    error_message = "The container must get exactly the service's settings (and no JAVA_TOOL_OPTIONS)."
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].healthCheck.command[0] == "CMD" &&
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].healthCheck.startPeriod == 30 &&
      contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].healthCheck.command, "/app/classpath/app.jar")
    )
    error_message = "The container needs the JDK health check (the app jar on its classpath) with a 30 s start period."
  }

  # --- start timing (the image with its AOT cache is ready in seconds) -------------
  assert {
    condition = (
      aws_ecs_service.ci_deployed[0].health_check_grace_period_seconds == 45 &&
      one(aws_lb_target_group.this.health_check).interval == 5 &&
      one(aws_lb_target_group.this.health_check).healthy_threshold == 2 &&
      tonumber(aws_lb_target_group.this.slow_start) == 0
    )
    error_message = "A ready task must take traffic within ~10 s (5 s checks, 2 passes, 45 s grace, no slow start by default)."
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem &&
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.logDriver == "awslogs"
    )
    error_message = "Read-only root filesystem and awslogs are expected."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "Logs must have a retention (30 days by default)."
  }

  # --- IAM ---------------------------------------------------------------------------
  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Action
    ])) == toset(["s3:ListBucket", "s3:GetObject", "s3:PutObject"])
    error_message = "The task role may only list/read models and write capture data."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.task.policy).Statement :
      s.Effect == "Allow" && (
        (s.Action == ["s3:GetObject"] && s.Resource == "arn:aws:s3:::mlserve-models/models/*") ||
        (s.Action == ["s3:PutObject"] && s.Resource == "arn:aws:s3:::mlserve-models/capture/*") ||
        (s.Action == ["s3:ListBucket"] && s.Resource == "arn:aws:s3:::mlserve-models" && try(s.Condition.StringLike["s3:prefix"], null) == ["models/*"])
      )
    ])
    error_message = "Task role: GetObject on models/*, PutObject on capture/*, ListBucket only with the models/ prefix condition."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.execution.policy).Statement :
      s.Resource != "*" || s.Action == ["ecr:GetAuthorizationToken"]
    ])
    error_message = "The execution role may use '*' only for ecr:GetAuthorizationToken."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.task.assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com" &&
      jsondecode(aws_iam_role.task.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    )
    error_message = "Only ECS tasks of this account may assume the task role."
  }

  # --- scaling -------------------------------------------------------------------------
  assert {
    condition = (
      one(one(aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration).predefined_metric_specification).predefined_metric_type == "ECSServiceAverageCPUUtilization" &&
      one(one(aws_appautoscaling_policy.requests.target_tracking_scaling_policy_configuration).predefined_metric_specification).resource_label == "app/mock/0123456789abcdef/targetgroup/mock/0123456789abcdef"
    )
    error_message = "Autoscaling must track CPU and ALB requests per target."
  }

  assert {
    condition     = aws_appautoscaling_target.this.min_capacity == 2 && aws_appautoscaling_target.this.max_capacity == 4
    error_message = "Autoscaling bounds must come from the variables."
  }
}

run "terraform_deploys_when_ci_does_not" {
  command = apply

  variables {
    ci_deploys = false
  }

  assert {
    condition     = length(aws_ecs_service.this) == 1 && length(aws_ecs_service.ci_deployed) == 0
    error_message = "With ci_deploys = false, the variant that follows task_definition must exist."
  }

  assert {
    condition     = one(aws_ecs_service.this[0].deployment_circuit_breaker).enable && one(aws_ecs_service.this[0].deployment_circuit_breaker).rollback
    error_message = "The circuit breaker must be on in this variant too."
  }

  assert {
    condition     = output.service_name == "mlserve-test"
    error_message = "Outputs must follow the existing variant."
  }
}

run "https_with_a_certificate" {
  command = apply

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_lb_listener.https) == 1 && aws_lb_listener.https[0].port == 443 && aws_lb_listener.https[0].protocol == "HTTPS"
    error_message = "A certificate must give an HTTPS listener on 443."
  }

  assert {
    condition     = one(aws_lb_listener.http.default_action).type == "redirect" && one(one(aws_lb_listener.http.default_action).redirect).protocol == "HTTPS"
    error_message = "Port 80 must redirect to HTTPS."
  }

  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.alb_listeners)) == toset(["80-0.0.0.0/0", "443-0.0.0.0/0"])
    error_message = "The load balancer must open 80 (redirect) and 443."
  }

  assert {
    condition     = startswith(output.service_url, "https://")
    error_message = "The service URL must be https."
  }
}

run "secrets_go_through_value_from" {
  command = apply

  variables {
    secrets = {
      HF_TOKEN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/hf-AbCdEf"
    }
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets == [{ name = "HF_TOKEN", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/hf-AbCdEf" }] &&
      !contains([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name], "HF_TOKEN")
    )
    error_message = "Secrets must be injected with valueFrom, never as plain environment."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.execution.policy).Statement :
      s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/hf-AbCdEf"]
    ])
    error_message = "The execution role must read exactly the listed secrets."
  }
}

run "rejects_secrets_in_plain_environment" {
  command = plan

  variables {
    extra_environment = { DB_PASSWORD = "hunter2" }
  }

  expect_failures = [var.extra_environment]
}

run "rejects_a_drain_time_beyond_fargate_stop_timeout" {
  command = plan

  variables {
    shutdown_timeout_seconds = 115
  }

  expect_failures = [var.shutdown_timeout_seconds]
}

run "slow_start_for_an_image_without_aot_cache" {
  command = plan

  variables {
    slow_start_seconds = 60
  }

  assert {
    condition     = tonumber(aws_lb_target_group.this.slow_start) == 60
    error_message = "slow_start_seconds must reach the target group."
  }
}

run "rejects_a_slow_start_the_alb_refuses" {
  command = plan

  variables {
    slow_start_seconds = 10
  }

  expect_failures = [var.slow_start_seconds]
}
