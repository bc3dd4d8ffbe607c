# The bootstrap stack: the state bucket, and (optionally) the roles CI runs
# Terraform with, trusting the account's GitHub OIDC provider. Plans only: the
# state bucket is prevent_destroy, so a test apply could not be torn down.

mock_provider "aws" {
  source = "../tests/mocks"
  # Mock values at plan time, so the plans can be asserted on.
  override_during = plan
}

run "state_bucket_only_by_default" {
  command = plan

  assert {
    condition     = length(module.terraform_ci) == 0 && length(aws_iam_openid_connect_provider.github) == 0 && output.terraform_apply_role_arn == null
    error_message = "Without github_repository, bootstrap makes the state bucket only."
  }
}

run "ci_roles_trust_the_created_provider" {
  command = plan

  variables {
    github_repository = "example-org/ml-serve-ecs"
  }

  assert {
    condition = (
      jsondecode(module.terraform_ci[0].plan_role_trust).Statement[0].Principal.Federated == aws_iam_openid_connect_provider.github[0].arn &&
      module.terraform_ci[0].plan_subjects == ["repo:example-org/ml-serve-ecs:pull_request"] &&
      module.terraform_ci[0].apply_subjects == ["repo:example-org/ml-serve-ecs:environment:terraform"]
    )
    error_message = "Both roles trust the provider made here, each for its own subject."
  }
}

run "reuses_an_existing_provider" {
  command = plan

  variables {
    github_repository        = "example-org/ml-serve-ecs"
    github_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && output.github_oidc_provider_arn == var.github_oidc_provider_arn
    error_message = "An existing provider is reused."
  }
}
