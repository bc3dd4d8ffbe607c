# The release role gets exactly what a release needs and only the release workflow of this
# repository's main branch can assume it. Mock provider: no AWS account needed.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                = "mlserve-test"
  oidc_provider_arn   = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  github_repositories = ["example-org/ml-serve-ecs"]
  model_bucket_arn    = "arn:aws:s3:::mlserve-models"
  amp_workspace_arn   = "arn:aws:aps:eu-west-1:123456789012:workspace/ws-1234"
}

run "trusts_only_main_of_this_repository" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.release.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == ["repo:example-org/ml-serve-ecs:ref:refs/heads/main"]
    error_message = "The trust must name the repository and branch exactly."
  }

  assert {
    condition     = jsondecode(aws_iam_role.release.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The trust must check the audience."
  }

  assert {
    condition     = length(jsondecode(aws_iam_role.release.assume_role_policy).Statement) == 1
    error_message = "By default nothing but the workflow may assume the role."
  }
}

run "ecs_tasks_may_assume_it_when_asked" {
  command = apply

  variables {
    allow_ecs_tasks = true
  }

  assert {
    condition     = jsondecode(aws_iam_role.release.assume_role_policy).Statement[1].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "allow_ecs_tasks adds the ECS tasks service principal."
  }
}

run "writes_serving_json_only_and_reads_models" {
  command = apply

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.release.policy).Statement : s.Resource if contains(s.Action, "s3:PutObject")
    ] == [["arn:aws:s3:::mlserve-models/models/*/serving.json"]]
    error_message = "s3:PutObject must be granted on <prefix>/*/serving.json and nowhere else."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.release.policy).Statement : s.Resource if contains(s.Action, "s3:GetObject")
    ] == [["arn:aws:s3:::mlserve-models/models/*"]]
    error_message = "Reads must stay under the models prefix."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.release.policy).Statement :
      !anytrue([for a in s.Action : endswith(a, ":*") || a == "*" || contains(["s3:DeleteObject", "s3:PutBucketPolicy", "iam:PassRole"], a)])
    ])
    error_message = "No wildcard, delete, bucket-policy or PassRole actions."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.release.policy).Statement : s.Resource if contains(s.Action, "sns:Publish")
    ] == [[aws_sns_topic.releases.arn]]
    error_message = "Publishing is allowed to the release topic only."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.release.policy).Statement : s.Resource if contains(s.Action, "aps:QueryMetrics")
    ] == [["arn:aws:aps:eu-west-1:123456789012:workspace/ws-1234"]]
    error_message = "Metrics queries are allowed on the service's workspace only."
  }

  assert {
    condition     = aws_sns_topic.releases.kms_master_key_id == "alias/aws/sns"
    error_message = "The release topic is encrypted."
  }
}

run "an_environment_replaces_the_branch_and_no_workspace_means_no_metrics_access" {
  command = apply

  variables {
    github_environment = "release"
    amp_workspace_arn  = null
  }

  assert {
    condition     = jsondecode(aws_iam_role.release.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == ["repo:example-org/ml-serve-ecs:environment:release"]
    error_message = "With an environment the trust names it instead of the branch."
  }

  assert {
    condition = !anytrue([
      for s in jsondecode(aws_iam_role_policy.release.policy).Statement : contains(s.Action, "aps:QueryMetrics")
    ])
    error_message = "No workspace, no aps permissions."
  }
}

run "an_empty_models_prefix_is_refused" {
  command = plan

  variables {
    models_prefix = "/"
  }

  expect_failures = [var.models_prefix]
}
