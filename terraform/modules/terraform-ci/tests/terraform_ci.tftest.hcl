# Who can run Terraform from where: pull requests get a read-only role, only
# the protected `terraform` environment gets the apply role, and neither trust
# accepts the other's token. Assertions read the rendered policy JSON.
# Mock provider: no AWS account needed.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name              = "mlserve"
  stack_prefix      = "mlserve-"
  github_repository = "example-org/ml-serve-ecs"
  oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  state_bucket_name = "mlserve-tfstate"
  state_key_prefix  = "ml-serve-ecs/"
}

run "plan_role_is_for_pull_requests_and_reads_only" {
  command = apply

  assert {
    condition = (
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] ==
      ["repo:example-org/ml-serve-ecs:pull_request"]
    )
    error_message = "The plan role trusts exactly the repository's pull_request tokens."
  }

  assert {
    condition = !contains(
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"],
      "repo:example-org/ml-serve-ecs:environment:terraform"
    )
    error_message = "A job in the terraform environment must not get the plan role."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com" &&
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Principal.Federated == var.oidc_provider_arn &&
      length(keys(jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition)) == 1
    )
    error_message = "GitHub's provider, audience checked, StringEquals only (no StringLike)."
  }

  assert {
    # Every action on "*" is a read: Describe/List/Get/BatchGet.
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : [
        for a in flatten([s.Action]) : can(regex("^[a-z0-9-]+:(Describe|List|Get|BatchGet)", a))
      ] if s.Resource == "*"
    ]))
    error_message = "The plan role's account-wide actions must all be reads."
  }

  assert {
    condition = !anytrue([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement :
      anytrue([for a in flatten([s.Action]) : contains(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:*", "*"], a)]) &&
      s.Resource == "*"
    ])
    error_message = "The plan role reads and writes no object outside the state."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement :
      s.Action == ["s3:PutObject", "s3:DeleteObject"] && s.Resource == "arn:aws:s3:::mlserve-tfstate/ml-serve-ecs/*.tflock"
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement :
      s.Action == ["s3:GetObject"] && s.Resource == "arn:aws:s3:::mlserve-tfstate/ml-serve-ecs/*"
    ])
    error_message = "The plan role reads the state and writes only the lock files."
  }
}

run "apply_role_is_for_the_terraform_environment_only" {
  command = apply

  assert {
    condition = (
      jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] ==
      ["repo:example-org/ml-serve-ecs:environment:terraform"]
    )
    error_message = "The apply role trusts exactly the terraform environment."
  }

  assert {
    condition = !anytrue([
      for s in jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] :
      strcontains(s, "pull_request") || strcontains(s, "ref:refs/") || strcontains(s, "*") || strcontains(s, "environment:production")
    ])
    error_message = "Pull requests, branches and the production (deploy) environment must not get the apply role."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_policy.apply.policy).Statement :
      s.Resource != "*" || !anytrue([for a in flatten([s.Action]) : startswith(a, "iam:") && !can(regex("^iam:(Get|List)", a)) || startswith(a, "s3:") && a != "s3:ListAllMyBuckets" || a == "*"])
    ])
    error_message = "IAM writes and S3 access are never account-wide."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_policy.apply.policy).Statement :
      s.Action == ["iam:*"] && s.Resource == [
        "arn:aws:iam::123456789012:role/mlserve-*",
        "arn:aws:iam::123456789012:policy/mlserve-*",
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
      ]
    ])
    error_message = "The apply role manages only the stacks' roles and policies (and GitHub's OIDC provider)."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.apply.role == aws_iam_role.apply.name && length(aws_iam_role_policy_attachment.apply_extra) == 0
    error_message = "The apply role gets the stack policy and nothing else by default."
  }

  assert {
    condition     = length(aws_codebuild_project.terraform) == 0 && output.codebuild_project_name == null
    error_message = "No CodeBuild runner without a connection."
  }
}

run "codebuild_runner_plans_by_default_and_guards_destroy" {
  command = apply

  variables {
    codebuild_connection_arn = "arn:aws:codeconnections:eu-west-1:123456789012:connection/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition = (
      one(aws_codebuild_project.terraform[0].source).buildspec == "buildspec-terraform.yml" &&
      one(one(aws_codebuild_project.terraform[0].source).auth).type == "CODECONNECTIONS" &&
      one(one(aws_codebuild_project.terraform[0].source).auth).resource == var.codebuild_connection_arn
    )
    error_message = "The runner checks the repository out through the connection and runs buildspec-terraform.yml."
  }

  assert {
    condition = (
      { for v in one(aws_codebuild_project.terraform[0].environment).environment_variable : v.name => v.value }["TF_ACTION"] == "plan" &&
      { for v in one(aws_codebuild_project.terraform[0].environment).environment_variable : v.name => v.value }["CONFIRM_DESTROY"] == "" &&
      { for v in one(aws_codebuild_project.terraform[0].environment).environment_variable : v.name => v.value }["ENVIRONMENT_NAME"] == "dev" &&
      { for v in one(aws_codebuild_project.terraform[0].environment).environment_variable : v.name => v.type }["TERRAFORM_TFVARS"] == "PARAMETER_STORE"
    )
    error_message = "A build plans unless told otherwise, destroys only with CONFIRM_DESTROY set, and reads the tfvars from Parameter Store."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.codebuild[0].assume_role_policy).Statement[0].Principal.Service == "codebuild.amazonaws.com" &&
      jsondecode(aws_iam_role.codebuild[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceArn"] ==
      "arn:aws:codebuild:eu-west-1:123456789012:project/mlserve-terraform"
    )
    error_message = "Only the Terraform project (aws:SourceArn) may assume the runner role."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.codebuild[0].policy_arn == aws_iam_policy.apply.arn
    error_message = "The runner has the same stack rights as the GitHub apply role."
  }
}

run "immutable_subjects_are_trusted_too" {
  command = plan

  variables {
    github_repository_immutable = "example-org-123/ml-serve-ecs-456"
  }

  assert {
    condition = (
      output.plan_subjects == ["repo:example-org/ml-serve-ecs:pull_request", "repo:example-org-123/ml-serve-ecs-456:pull_request"] &&
      output.apply_subjects == ["repo:example-org/ml-serve-ecs:environment:terraform", "repo:example-org-123/ml-serve-ecs-456:environment:terraform"]
    )
    error_message = "Both subject forms, each with its own context."
  }
}

run "rejects_a_relative_parameter_name" {
  command = plan

  variables {
    tfvars_parameter_name = "terraform.tfvars"
  }

  expect_failures = [var.tfvars_parameter_name]
}
