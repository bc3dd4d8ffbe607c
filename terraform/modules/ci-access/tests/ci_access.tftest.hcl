# CI gets exactly what a deploy needs, and only this repository's protected
# `production` environment can assume the deploy role. Mock provider: no AWS
# account needed.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name               = "mlserve-test"
  github_repository  = "example-org/ml-serve-ecs"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:123456789012:repository/mlserve"
  ecr_repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlserve"
  ecs_service_arn    = "arn:aws:ecs:eu-west-1:123456789012:service/mlserve/mlserve"
  pass_role_arns = [
    "arn:aws:iam::123456789012:role/mlserve-task",
    "arn:aws:iam::123456789012:role/mlserve-execution",
  ]
}

run "deploy_role_trusts_only_the_production_environment" {
  command = apply

  assert {
    condition = (
      jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] ==
      ["repo:example-org/ml-serve-ecs:environment:production"]
    )
    error_message = "The trust must name the repository and the production environment exactly (no wildcards)."
  }

  assert {
    condition = !anytrue([
      for s in flatten([jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]]) :
      strcontains(s, "ref:refs/heads/") || strcontains(s, "pull_request") || strcontains(s, "environment:terraform") || strcontains(s, "*")
    ])
    error_message = "A job on a branch, a pull request or the terraform environment must not be able to assume the deploy role."
  }

  assert {
    condition     = length(keys(jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition)) == 1
    error_message = "Only StringEquals conditions (no StringLike that could widen the subject)."
  }

  assert {
    condition = !anytrue([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement :
      anytrue([for a in flatten([s.Action]) : startswith(a, "elasticloadbalancing:") || startswith(a, "codebuild:")])
    ])
    error_message = "The deploy role needs no load balancer or CodeBuild rights (the smoke test uses SERVICE_URL; CodeBuild runs on its own)."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.codebuild.assume_role_policy).Statement[0].Principal.Service == "codebuild.amazonaws.com" &&
      jsondecode(aws_iam_role.codebuild.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceArn"] ==
      "arn:aws:codebuild:eu-west-1:123456789012:project/mlserve-test-build" &&
      jsondecode(aws_iam_role.codebuild.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    )
    error_message = "Only this CodeBuild project (aws:SourceArn) in this account may assume the build role."
  }

  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The trust must check the audience."
  }

  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Principal.Federated == aws_iam_openid_connect_provider.github[0].arn
    error_message = "Only GitHub's OIDC provider may federate."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement :
      s.Action != "*" && !anytrue([for a in flatten([s.Action]) : endswith(a, ":*")])
    ])
    error_message = "No wildcard actions in the deploy policy."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement :
      s.Action == ["iam:PassRole"] && try(tolist(s.Resource), []) == var.pass_role_arns &&
      try(s.Condition.StringEquals["iam:PassedToService"], "") == "ecs-tasks.amazonaws.com"
    ])
    error_message = "PassRole must be limited to the task and execution roles, passed to ECS tasks."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement :
      contains(s.Action, "ecs:UpdateService") && s.Resource == var.ecs_service_arn
    ])
    error_message = "UpdateService must be limited to the one service."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement :
      contains(s.Action, "ecr:PutImage") && s.Resource == var.ecr_repository_arn
    ])
    error_message = "Pushes must be limited to the one repository."
  }

  assert {
    condition = (
      !one(aws_codebuild_project.this.environment).privileged_mode &&
      one(aws_codebuild_project.this.source).buildspec == "buildspec.yml" &&
      contains([for v in one(aws_codebuild_project.this.environment).environment_variable : v.name], "ECR_REPOSITORY_URL")
    )
    error_message = "CodeBuild runs buildspec.yml unprivileged with ECR_REPOSITORY_URL."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.codebuild.policy).Statement :
      s.Resource != "*" || s.Action == ["ecr:GetAuthorizationToken"]
    ])
    error_message = "The CodeBuild role may use '*' only for ecr:GetAuthorizationToken."
  }
}

run "immutable_subject_and_environment" {
  command = apply

  variables {
    github_environment          = "production"
    github_repository_immutable = "example-org-123456/ml-serve-ecs-456789"
    accept_name_based_subject   = false
    create_oidc_provider        = false
    oidc_provider_arn           = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] ==
      ["repo:example-org-123456/ml-serve-ecs-456789:environment:production"]
    )
    error_message = "With immutable claims only, the trust must accept just the ID-based subject."
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "An existing OIDC provider must be reused, not created."
  }
}

run "branch_trust_without_an_environment" {
  command = plan

  variables {
    github_environment = null
  }

  assert {
    condition     = output.github_subjects == ["repo:example-org/ml-serve-ecs:ref:refs/heads/main"]
    error_message = "Without an environment the trust names the branch exactly."
  }
}

run "workflow_ref_in_a_customised_subject" {
  command = plan

  variables {
    deploy_workflow_ref = ".github/workflows/deploy.yml@refs/heads/main"
  }

  assert {
    condition = output.github_subjects == [
      "repo:example-org/ml-serve-ecs:environment:production:job_workflow_ref:example-org/ml-serve-ecs/.github/workflows/deploy.yml@refs/heads/main"
    ]
    error_message = "With job_workflow_ref in the subject, the trust names the workflow file and ref too."
  }
}

run "rejects_a_malformed_workflow_ref" {
  command = plan

  variables {
    deploy_workflow_ref = "deploy.yml"
  }

  expect_failures = [var.deploy_workflow_ref]
}

run "rejects_a_trust_nobody_can_use" {
  command = plan

  variables {
    accept_name_based_subject = false
  }

  expect_failures = [var.accept_name_based_subject]
}
