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
    condition = (
      keys(aws_vpc_security_group_egress_rule.tasks_https) == ["0.0.0.0/0"] &&
      aws_vpc_security_group_egress_rule.tasks_https["0.0.0.0/0"].from_port == 443 &&
      aws_vpc_security_group_egress_rule.tasks_https["0.0.0.0/0"].to_port == 443 &&
      length(aws_vpc_security_group_egress_rule.tasks_https_prefix_lists) == 0
    )
    error_message = "Tasks may only go out on HTTPS."
  }

  # --- access logs and WAF -----------------------------------------------------------
  assert {
    condition = (
      one(aws_lb.this.access_logs).enabled &&
      one(aws_lb.this.access_logs).bucket == aws_s3_bucket.alb_logs[0].id &&
      one(aws_lb.this.access_logs).prefix == "alb" &&
      aws_s3_bucket.alb_logs[0].bucket == "mlserve-test-alb-logs-123456789012"
    )
    error_message = "The load balancer must write access logs to its own bucket, under alb/."
  }

  assert {
    condition = (
      jsondecode(aws_s3_bucket_policy.alb_logs[0].policy).Statement[0].Principal.AWS == "arn:aws:iam::156460612806:root" &&
      jsondecode(aws_s3_bucket_policy.alb_logs[0].policy).Statement[1].Principal.Service == "logdelivery.elasticloadbalancing.amazonaws.com" &&
      alltrue([for st in slice(jsondecode(aws_s3_bucket_policy.alb_logs[0].policy).Statement, 0, 2) :
        st.Effect == "Allow" && st.Action == "s3:PutObject" &&
        st.Resource == "arn:aws:s3:::mock-bucket/alb/AWSLogs/123456789012/*"
      ]) &&
      jsondecode(aws_s3_bucket_policy.alb_logs[0].policy).Statement[2].Effect == "Deny" &&
      jsondecode(aws_s3_bucket_policy.alb_logs[0].policy).Statement[2].Condition.Bool["aws:SecureTransport"] == "false"
    )
    error_message = "Only ELB (its regional account or the log-delivery principal) may put logs, only under this account's prefix, only over TLS."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.alb_logs[0].block_public_acls && aws_s3_bucket_public_access_block.alb_logs[0].block_public_policy &&
      aws_s3_bucket_public_access_block.alb_logs[0].ignore_public_acls && aws_s3_bucket_public_access_block.alb_logs[0].restrict_public_buckets &&
      one(one(aws_s3_bucket_server_side_encryption_configuration.alb_logs[0].rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256" &&
      one(aws_s3_bucket_lifecycle_configuration.alb_logs[0].rule).expiration[0].days == 90
    )
    error_message = "The access-log bucket is private, SSE-S3 encrypted (what ELB supports) and expires logs after 90 days."
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 0 && length(aws_wafv2_web_acl_association.this) == 0
    error_message = "WAF is opt-in."
  }

  assert {
    condition     = !contains([for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : s.name], "API_TOKENS")
    error_message = "Without a token secret the API is open: no API_TOKENS."
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
      one(aws_lb_target_group.this.health_check).timeout < one(aws_lb_target_group.this.health_check).interval &&
      one(aws_lb_target_group.this.health_check).healthy_threshold == 2 &&
      tonumber(aws_lb_target_group.this.slow_start) == 30
    )
    error_message = "A ready task must take traffic within ~10 s (5 s checks, 2 passes, 45 s grace) and ramp its share over 30 s while its JIT warms up."
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

run "longer_slow_start" {
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

run "private_subnets_and_limited_egress" {
  command = apply

  variables {
    task_subnet_ids             = ["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"]
    assign_public_ip            = false
    task_egress_cidrs           = ["10.20.0.0/16"]
    task_egress_prefix_list_ids = ["pl-6da54004"]
    alb_internal                = true
  }

  assert {
    condition = (
      one(aws_ecs_service.ci_deployed[0].network_configuration).subnets == toset(["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"]) &&
      !one(aws_ecs_service.ci_deployed[0].network_configuration).assign_public_ip
    )
    error_message = "Tasks run in the private subnets without a public IP."
  }

  assert {
    condition     = aws_lb.this.subnets == toset(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]) && aws_lb.this.internal
    error_message = "The load balancer stays in subnet_ids, internal when asked."
  }

  assert {
    condition = (
      keys(aws_vpc_security_group_egress_rule.tasks_https) == ["10.20.0.0/16"] &&
      aws_vpc_security_group_egress_rule.tasks_https_prefix_lists[0].prefix_list_id == "pl-6da54004" &&
      aws_vpc_security_group_egress_rule.tasks_https_prefix_lists[0].from_port == 443 &&
      aws_vpc_security_group_egress_rule.tasks_https_prefix_lists[0].cidr_ipv4 == null
    )
    error_message = "Tasks may reach only the VPC (endpoints) and the S3 prefix list on 443: no 0.0.0.0/0."
  }
}

run "waf_in_front_of_the_load_balancer" {
  command = apply

  variables {
    waf_enabled    = true
    waf_rate_limit = 1200
  }

  assert {
    condition = (
      aws_wafv2_web_acl_association.this[0].resource_arn == aws_lb.this.arn &&
      aws_wafv2_web_acl_association.this[0].web_acl_arn == aws_wafv2_web_acl.this[0].arn &&
      aws_wafv2_web_acl.this[0].scope == "REGIONAL" &&
      length(one(aws_wafv2_web_acl.this[0].default_action).allow) == 1
    )
    error_message = "A regional web ACL, allowing by default, is associated with the load balancer."
  }

  assert {
    condition = (
      { for r in aws_wafv2_web_acl.this[0].rule : r.name => r.priority } ==
      { "rate-limit-per-ip" = 0, "aws-common" = 1, "aws-known-bad-inputs" = 2 }
    )
    error_message = "Rules: per-IP rate limit first, then the two AWS managed rule sets."
  }

  assert {
    condition = alltrue([
      for r in aws_wafv2_web_acl.this[0].rule : (
        length(one(r.action).block) == 1 &&
        one(one(r.statement).rate_based_statement).limit == 1200 &&
        one(one(r.statement).rate_based_statement).aggregate_key_type == "IP" &&
        one(one(r.statement).rate_based_statement).evaluation_window_sec == 300
      ) if r.name == "rate-limit-per-ip"
    ])
    error_message = "The rate rule blocks an IP over the limit in a 5-minute window."
  }

  assert {
    condition = (
      toset(flatten([for r in aws_wafv2_web_acl.this[0].rule : [
        for s in r.statement : [for m in s.managed_rule_group_statement : "${m.vendor_name}/${m.name}"]
      ]])) == toset(["AWS/AWSManagedRulesCommonRuleSet", "AWS/AWSManagedRulesKnownBadInputsRuleSet"])
    )
    error_message = "The AWS common and known-bad-inputs managed rule sets are applied."
  }

  assert {
    condition = alltrue([
      for r in aws_wafv2_web_acl.this[0].rule : (
        one(one(one(r.statement).managed_rule_group_statement).rule_action_override).name == "SizeRestrictions_BODY" &&
        length(one(one(one(one(r.statement).managed_rule_group_statement).rule_action_override).action_to_use).count) == 1
      ) if r.name == "aws-common"
    ])
    error_message = "The 8 KB body rule only counts: prediction batches are larger and the service limits bodies itself."
  }
}

run "api_tokens_from_secrets_manager" {
  command = apply

  variables {
    api_tokens_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/api-tokens-AbCdEf"
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets == [{ name = "API_TOKENS", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/api-tokens-AbCdEf" }]
    )
    error_message = "The tokens reach the container as API_TOKENS through valueFrom."
  }

  assert {
    condition = (
      { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value if startswith(e.name, "API_") } == {
        API_TOKENS_SECRET_ID       = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/api-tokens-AbCdEf"
        API_TOKENS_REFRESH_SECONDS = "300"
      }
    )
    error_message = "The service gets the secret's id (not its value) to re-read it, and the interval."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Resource if contains(flatten([s.Action]), "secretsmanager:GetSecretValue")] ==
      [["arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/api-tokens-AbCdEf"]]
    )
    error_message = "The execution role may read only that secret."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Resource if contains(flatten([s.Action]), "secretsmanager:GetSecretValue")] ==
      ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/api-tokens-AbCdEf"]
    )
    error_message = "The task role may re-read only that secret."
  }
}

run "rejects_a_token_secret_that_is_not_secrets_manager" {
  command = plan

  variables {
    api_tokens_secret_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/tokens"
  }

  expect_failures = [var.api_tokens_secret_arn]
}
