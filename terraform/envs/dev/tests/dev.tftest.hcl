# The env stack wires the modules together consistently: the service reads
# the bucket the model store made, CI may pass exactly the service's roles.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  github_repository = "example-org/ml-serve-ecs"
  image_tag         = "0123456789abcdef0123456789abcdef01234567"
}

run "modules_are_wired_together" {
  command = apply

  assert {
    condition     = module.service.cluster_name == "ml-serve-ecs-dev" && output.ecs_service_name == "ml-serve-ecs-dev"
    error_message = "Resources are named <project>-<environment>."
  }

  assert {
    condition     = output.model_base_path == "s3://${output.model_bucket_name}/models" && output.capture_s3_uri == "s3://${output.model_bucket_name}/capture"
    error_message = "The service's model and capture URIs must point into the model store bucket."
  }

  assert {
    condition     = output.model_bucket_name == "ml-serve-ecs-dev-models-123456789012"
    error_message = "The bucket name carries the account ID (globally unique)."
  }

  assert {
    condition     = module.ci_access.github_subjects == ["repo:example-org/ml-serve-ecs:environment:production"]
    error_message = "Only the repository's production environment may deploy."
  }

  assert {
    condition     = output.service_url == "http://${output.alb_dns_name}"
    error_message = "Without a certificate the service URL is plain HTTP."
  }
}

run "rejects_a_mutable_image_tag" {
  command = plan

  variables {
    image_tag = "latest"
  }

  expect_failures = [var.image_tag]
}

run "dev_defaults_keep_tasks_public_but_logged" {
  command = apply

  assert {
    condition     = !module.network.tasks_private && module.network.task_subnet_ids == module.network.public_subnet_ids
    error_message = "Dev keeps the tasks in the public subnets by default (endpoints cost)."
  }

  assert {
    condition     = output.vpc_flow_log_group == "/vpc/ml-serve-ecs-dev/flow-logs" && output.alb_access_logs_bucket == "ml-serve-ecs-dev-alb-logs-123456789012"
    error_message = "Flow logs and ALB access logs are on even in dev."
  }

  assert {
    condition     = module.service.tasks_egress.cidrs == tolist(["0.0.0.0/0"]) && length(module.service.tasks_egress.prefix_lists) == 0
    error_message = "Tasks with public IPs reach AWS over the internet on 443."
  }

  assert {
    condition     = !contains(keys(module.service.container_secrets), "API_TOKENS")
    error_message = "The API is open unless a token secret is given."
  }
}

run "private_networking_with_api_auth" {
  command = apply

  variables {
    private_networking    = true
    api_tokens_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ml-serve-ecs-dev/api-tokens-AbCdEf"
    waf_enabled           = true
  }

  assert {
    condition     = module.network.tasks_private && length(module.network.task_subnet_ids) == 2 && module.network.task_subnet_ids != module.network.public_subnet_ids
    error_message = "Tasks run in the private subnets."
  }

  assert {
    condition     = keys(module.network.interface_endpoint_ids) == ["aps-workspaces", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "sns", "sts"]
    error_message = "With API tokens the tasks also need the Secrets Manager endpoint (besides AMP for the metrics sidecar and SNS for the drift job)."
  }

  assert {
    condition = (
      module.service.container_secrets == tomap({ API_TOKENS = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ml-serve-ecs-dev/api-tokens-AbCdEf" })
    )
    error_message = "The token secret reaches the task definition through valueFrom."
  }

  assert {
    condition     = module.service.tasks_egress.cidrs == tolist(["10.20.0.0/16"]) && module.service.tasks_egress.prefix_lists == tolist(["pl-6da54004"])
    error_message = "Private tasks without NAT may reach only the VPC's endpoints and S3's prefix list."
  }

  assert {
    condition     = module.service.waf_web_acl_arn != null
    error_message = "The WAF is wired in."
  }
}

run "codepipeline_is_optional_and_wired_to_the_service" {
  command = apply

  variables {
    enable_codepipeline            = true
    codeconnections_connection_arn = "arn:aws:codeconnections:eu-west-1:123456789012:connection/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition = (
      output.codepipeline_name == "ml-serve-ecs-dev" &&
      output.codeconnections_connection_arn == var.codeconnections_connection_arn &&
      module.codepipeline[0].build_project_name == "ml-serve-ecs-dev-pipeline-build"
    )
    error_message = "The pipeline is named after the stack and uses the given connection."
  }
}

run "no_pipeline_by_default" {
  command = plan

  assert {
    condition     = output.codepipeline_name == null && length(module.codepipeline) == 0
    error_message = "The pipeline is created only when asked for."
  }
}

run "batch_scoring_shares_the_image_bucket_and_cluster" {
  command = apply

  assert {
    condition     = output.batch_input_uri == "s3://${output.model_bucket_name}/batch/input" && output.batch_output_uri == "s3://${output.model_bucket_name}/batch/output"
    error_message = "Batch jobs read and write the model store bucket's batch/ prefixes."
  }

  assert {
    condition     = module.batch[0].container_image == "${output.ecr_repository_url}:0123456789abcdef0123456789abcdef01234567"
    error_message = "The batch job runs the service's own image."
  }
}

run "batch_scoring_can_be_left_out" {
  command = plan

  variables {
    enable_batch = false
  }

  assert {
    condition     = output.batch_state_machine_arn == null && length(module.batch) == 0
    error_message = "enable_batch = false creates nothing for batch scoring."
  }
}
