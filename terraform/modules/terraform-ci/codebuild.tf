# The AWS-side Terraform runner: a CodeBuild project running
# buildspec-terraform.yml on the repository (through the CodeConnections
# connection), with TF_ACTION = plan | apply | destroy chosen per build:
#   aws codebuild start-build --project-name <name>-terraform \
#     --environment-variables-override name=TF_ACTION,value=apply
# A destroy also needs CONFIRM_DESTROY=<environment_name> (the buildspec refuses otherwise).

resource "aws_cloudwatch_log_group" "terraform" {
  count = local.codebuild ? 1 : 0

  name              = local.codebuild_log_name
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_iam_role" "codebuild" {
  count = local.codebuild ? 1 : 0

  name        = "${var.name}-terraform-build"
  description = "CodeBuild project ${local.codebuild_name}: terraform plan/apply/destroy"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = {
          "aws:SourceAccount" = local.account_id
          "aws:SourceArn"     = local.codebuild_arn
        }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "codebuild" {
  count = local.codebuild ? 1 : 0

  role       = aws_iam_role.codebuild[0].name
  policy_arn = aws_iam_policy.apply.arn
}

resource "aws_iam_role_policy_attachment" "codebuild_extra" {
  for_each = local.codebuild ? toset(var.extra_apply_policy_arns) : toset([])

  role       = aws_iam_role.codebuild[0].name
  policy_arn = each.value
}

resource "aws_iam_role_policy" "codebuild" {
  count = local.codebuild ? 1 : 0

  name = "runner"
  role = aws_iam_role.codebuild[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteBuildLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.terraform[0].arn}:*"
      },
      {
        Sid      = "CheckoutThroughTheConnection"
        Effect   = "Allow"
        Action   = ["codeconnections:UseConnection", "codeconnections:GetConnectionToken", "codestar-connections:UseConnection", "codestar-connections:GetConnectionToken"]
        Resource = var.codebuild_connection_arn
      },
      {
        Sid      = "ReadTfvars"
        Effect   = "Allow"
        Action   = ["ssm:GetParameters", "ssm:GetParameter"]
        Resource = local.tfvars_param_arn
      },
    ]
  })
}

resource "aws_codebuild_project" "terraform" {
  count = local.codebuild ? 1 : 0

  name          = local.codebuild_name
  description   = "terraform plan/apply/destroy of terraform/envs/${var.environment_name} (buildspec-terraform.yml; TF_ACTION)"
  service_role  = aws_iam_role.codebuild[0].arn
  build_timeout = 60
  # Two runs at once would only fight over the state lock.
  concurrent_build_limit = 1

  source {
    type            = "GITHUB"
    location        = "https://github.com/${var.github_repository}.git"
    buildspec       = "buildspec-terraform.yml"
    git_clone_depth = 1

    auth {
      type     = "CODECONNECTIONS"
      resource = var.codebuild_connection_arn
    }
  }

  source_version = var.github_branch

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = "BUILD_GENERAL1_SMALL"
    image                       = var.codebuild_image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    environment_variable {
      name  = "TF_ACTION"
      value = "plan"
    }

    environment_variable {
      # Empty: a destroy is refused unless the build is started with CONFIRM_DESTROY=<ENVIRONMENT_NAME>.
      name  = "CONFIRM_DESTROY"
      value = ""
    }

    environment_variable {
      name  = "ENVIRONMENT_NAME"
      value = var.environment_name
    }

    environment_variable {
      name  = "TF_STATE_BUCKET"
      value = var.state_bucket_name
    }

    environment_variable {
      name  = "AWS_REGION"
      value = local.region
    }

    environment_variable {
      name  = "TERRAFORM_TFVARS"
      type  = "PARAMETER_STORE"
      value = var.tfvars_parameter_name
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.terraform[0].name
    }
  }

  tags = var.tags
}
