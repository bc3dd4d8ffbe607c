# CodeBuild project running buildspec.yml from the repository root: tests,
# then Jib builds and pushes the image (no Docker daemon, so no privileged mode).

locals {
  codebuild_name      = "${var.name}-build"
  codebuild_log_group = "/aws/codebuild/${local.codebuild_name}"
  # Built from the name: the role's trust must name the project before it exists.
  codebuild_project_arn = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${local.codebuild_name}"
  source_location       = coalesce(var.codebuild_source_location, "https://github.com/${var.github_repository}.git")
}

resource "aws_cloudwatch_log_group" "codebuild" {
  name              = local.codebuild_log_group
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_iam_role" "codebuild" {
  name        = "${var.name}-codebuild"
  description = "CodeBuild builds ${var.name} and pushes its image"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Only this project may use the role (confused-deputy protection).
      Condition = {
        StringEquals = {
          "aws:SourceAccount" = local.account_id
          "aws:SourceArn"     = local.codebuild_project_arn
        }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "codebuild" {
  name = "build"
  role = aws_iam_role.codebuild.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteBuildLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.codebuild.arn}:*"
      },
      {
        Sid      = "EcrAuth"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid      = "EcrPush"
        Effect   = "Allow"
        Action   = local.ecr_push_actions
        Resource = var.ecr_repository_arn
      },
      {
        # Test reports (the buildspec's `reports:` section).
        Sid      = "TestReports"
        Effect   = "Allow"
        Action   = ["codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases", "codebuild:BatchPutCodeCoverages"]
        Resource = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:report-group/${local.codebuild_name}-*"
      },
    ]
  })
}

resource "aws_codebuild_project" "this" {
  name          = local.codebuild_name
  description   = "Test, build and push the ${var.name} image (buildspec.yml)"
  service_role  = aws_iam_role.codebuild.arn
  build_timeout = var.codebuild_timeout_minutes

  source {
    type            = "GITHUB"
    location        = local.source_location
    buildspec       = "buildspec.yml"
    git_clone_depth = 1
  }

  source_version = var.github_branch

  artifacts {
    type = "NO_ARTIFACTS"
  }

  cache {
    type  = "LOCAL"
    modes = ["LOCAL_CUSTOM_CACHE"]
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = var.codebuild_compute_type
    image                       = var.codebuild_image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    environment_variable {
      name  = "ECR_REPOSITORY_URL"
      value = var.ecr_repository_url
    }

    environment_variable {
      name  = "AWS_REGION"
      value = local.region
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.codebuild.name
    }
  }

  tags = var.tags
}
