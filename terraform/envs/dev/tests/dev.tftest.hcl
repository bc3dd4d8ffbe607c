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
    condition     = module.ci_access.github_subjects == ["repo:example-org/ml-serve-ecs:ref:refs/heads/main"]
    error_message = "Only the main branch of the repository may deploy."
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
