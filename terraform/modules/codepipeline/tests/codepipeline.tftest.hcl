# The pipeline goes source -> build -> ECS deploy, and each role can be used
# only by its own pipeline or project and touch only this service.
# Mock provider: no AWS account needed.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name               = "mlserve-test"
  github_repository  = "example-org/ml-serve-ecs"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:123456789012:repository/mlserve"
  ecr_repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlserve"
  ecs_cluster_name   = "mlserve"
  ecs_service_name   = "mlserve"
  ecs_service_arn    = "arn:aws:ecs:eu-west-1:123456789012:service/mlserve/mlserve"
  container_name     = "app"
  pass_role_arns = [
    "arn:aws:iam::123456789012:role/mlserve-task",
    "arn:aws:iam::123456789012:role/mlserve-execution",
  ]
}

run "source_build_deploy" {
  command = apply

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Deploy"]
    error_message = "Three stages, in order: Source, Build, Deploy."
  }

  assert {
    condition = (
      aws_codepipeline.this.stage[0].action[0].provider == "CodeStarSourceConnection" &&
      aws_codepipeline.this.stage[0].action[0].configuration.ConnectionArn == aws_codeconnections_connection.github[0].arn &&
      aws_codepipeline.this.stage[0].action[0].configuration.FullRepositoryId == "example-org/ml-serve-ecs" &&
      aws_codepipeline.this.stage[0].action[0].configuration.BranchName == "main" &&
      aws_codepipeline.this.stage[0].action[0].configuration.DetectChanges == "true" &&
      aws_codepipeline.this.stage[0].action[0].configuration.OutputArtifactFormat == "CODEBUILD_CLONE_REF"
    )
    error_message = "The source is the repository's main branch through the connection, started by pushes."
  }

  assert {
    condition     = aws_codeconnections_connection.github[0].provider_type == "GitHub"
    error_message = "Without connection_arn the module creates a GitHub connection."
  }

  assert {
    condition = (
      aws_codepipeline.this.stage[1].action[0].provider == "CodeBuild" &&
      aws_codepipeline.this.stage[1].action[0].configuration.ProjectName == aws_codebuild_project.build.name &&
      jsondecode(aws_codepipeline.this.stage[1].action[0].configuration.EnvironmentVariables)[0] ==
      { name = "COMMIT_ID", value = "#{SourceVariables.CommitId}", type = "PLAINTEXT" }
    )
    error_message = "The build runs the module's project with the source commit as COMMIT_ID."
  }

  assert {
    condition = (
      one(aws_codebuild_project.build.source).type == "CODEPIPELINE" &&
      one(aws_codebuild_project.build.source).buildspec == "buildspec.yml" &&
      one(aws_codebuild_project.build.artifacts).type == "CODEPIPELINE" &&
      !one(aws_codebuild_project.build.environment).privileged_mode
    )
    error_message = "The build project runs buildspec.yml on the pipeline's source, unprivileged."
  }

  assert {
    condition = (
      aws_codepipeline.this.stage[2].action[0].provider == "ECS" &&
      one(aws_codepipeline.this.stage[2].action[0].input_artifacts) == "imagedefinitions" &&
      aws_codepipeline.this.stage[2].action[0].configuration.FileName == "imagedefinitions.json" &&
      aws_codepipeline.this.stage[2].action[0].configuration.ClusterName == "mlserve" &&
      aws_codepipeline.this.stage[2].action[0].configuration.ServiceName == "mlserve"
    )
    error_message = "The deploy stage hands the build's imagedefinitions.json to the ECS action for this service."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.pipeline.assume_role_policy).Statement[0].Principal.Service == "codepipeline.amazonaws.com" &&
      jsondecode(aws_iam_role.pipeline.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceArn"] ==
      "arn:aws:codepipeline:eu-west-1:123456789012:mlserve-test"
    )
    error_message = "Only this pipeline (aws:SourceArn) may assume the pipeline role."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.build.assume_role_policy).Statement[0].Principal.Service == "codebuild.amazonaws.com" &&
      jsondecode(aws_iam_role.build.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceArn"] ==
      "arn:aws:codebuild:eu-west-1:123456789012:project/mlserve-test-pipeline-build"
    )
    error_message = "Only the pipeline's build project (aws:SourceArn) may assume the build role."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement :
      s.Resource != "*" || alltrue([for a in flatten([s.Action]) : contains(
        ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:DescribeTasks", "ecs:ListTasks", "ecs:TagResource"], a
      )])
    ])
    error_message = "The pipeline role uses '*' only for ECS actions without resource-level permissions."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement :
      contains(s.Action, "ecs:UpdateService") && s.Resource == var.ecs_service_arn
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement :
      s.Action == ["iam:PassRole"] && try(tolist(s.Resource), []) == var.pass_role_arns &&
      try(s.Condition.StringEquals["iam:PassedToService"], "") == "ecs-tasks.amazonaws.com"
      ]) && anytrue([
      for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement :
      contains(s.Action, "codeconnections:UseConnection") && s.Resource == aws_codeconnections_connection.github[0].arn
    ])
    error_message = "The pipeline may update only this service, pass only its roles, use only its connection."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.build.policy).Statement :
      s.Resource != "*" || s.Action == ["ecr:GetAuthorizationToken"]
    ])
    error_message = "The build role may use '*' only for ecr:GetAuthorizationToken."
  }

  assert {
    condition     = aws_s3_bucket.artifacts.force_destroy && one(aws_s3_bucket_public_access_block.artifacts[*].restrict_public_buckets)
    error_message = "The artifact bucket is private and goes with the pipeline (it holds no data of record)."
  }
}

run "reuses_an_existing_connection" {
  command = apply

  variables {
    connection_arn = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition = (
      length(aws_codeconnections_connection.github) == 0 &&
      aws_codepipeline.this.stage[0].action[0].configuration.ConnectionArn == var.connection_arn &&
      output.connection_arn == var.connection_arn
    )
    error_message = "A given connection is used, not a new one created."
  }
}

run "rejects_a_connection_that_is_not_one" {
  command = plan

  variables {
    connection_arn = "arn:aws:iam::123456789012:role/not-a-connection"
  }

  expect_failures = [var.connection_arn]
}

run "rejects_a_deploy_timeout_over_an_hour" {
  command = plan

  variables {
    deploy_timeout_minutes = 90
  }

  expect_failures = [var.deploy_timeout_minutes]
}
