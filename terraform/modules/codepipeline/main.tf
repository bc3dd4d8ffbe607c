# CodePipeline: a push to the branch -> CodeBuild runs buildspec.yml (tests,
# Jib push, imagedefinitions.json naming the pushed digest) -> the "Amazon ECS"
# deploy action registers a revision with that image and waits for the rollout.
# The source comes through a CodeConnections connection to GitHub: no token is
# stored, and the only manual step is approving the connection once.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  connection_arn = var.connection_arn != null ? var.connection_arn : aws_codeconnections_connection.github[0].arn

  build_name      = "${var.name}-pipeline-build"
  build_log_group = "/aws/codebuild/${local.build_name}"
  # Built from names: each role's trust must name its user before the user exists.
  build_project_arn = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${local.build_name}"
  pipeline_arn      = "arn:${local.partition}:codepipeline:${local.region}:${local.account_id}:${var.name}"
}

resource "aws_codeconnections_connection" "github" {
  count = var.connection_arn == null ? 1 : 0

  # At most 32 characters.
  name          = substr("${var.name}-github", 0, 32)
  provider_type = "GitHub"

  tags = var.tags
}

# ------------------------------------------------------------- artifacts ---

resource "aws_s3_bucket" "artifacts" {
  bucket_prefix = substr("${var.name}-pipeline-", 0, 37)
  # Only the pipeline's own intermediate files live here (source zips,
  # imagedefinitions.json): nothing to keep when the pipeline goes.
  force_destroy = true

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-artifacts"
    status = "Enabled"

    filter {}

    expiration {
      days = var.artifact_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

# ----------------------------------------------------------------- build ---

resource "aws_cloudwatch_log_group" "build" {
  name              = local.build_log_group
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_iam_role" "build" {
  name        = "${var.name}-pipeline-build"
  description = "CodeBuild in the ${var.name} pipeline tests, builds and pushes the image"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = {
          "aws:SourceAccount" = local.account_id
          "aws:SourceArn"     = local.build_project_arn
        }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "build" {
  name = "build"
  role = aws_iam_role.build.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteBuildLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.build.arn}:*"
      },
      {
        # Source zip in, imagedefinitions.json out.
        Sid      = "PipelineArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
        Resource = "${aws_s3_bucket.artifacts.arn}/*"
      },
      {
        # CODEBUILD_CLONE_REF: the build clones the commit through the connection.
        Sid      = "CloneThroughTheConnection"
        Effect   = "Allow"
        Action   = ["codeconnections:UseConnection", "codeconnections:GetConnectionToken", "codestar-connections:UseConnection", "codestar-connections:GetConnectionToken"]
        Resource = local.connection_arn
      },
      {
        Sid      = "EcrAuth"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid    = "EcrPush"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
          "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
        ]
        Resource = var.ecr_repository_arn
      },
      {
        Sid      = "TestReports"
        Effect   = "Allow"
        Action   = ["codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases", "codebuild:BatchPutCodeCoverages"]
        Resource = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:report-group/${local.build_name}-*"
      },
    ]
  })
}

resource "aws_codebuild_project" "build" {
  name          = local.build_name
  description   = "Test, build and push the ${var.name} image for the pipeline (buildspec.yml)"
  service_role  = aws_iam_role.build.arn
  build_timeout = var.codebuild_timeout_minutes

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
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

    environment_variable {
      name  = "CONTAINER_NAME"
      value = var.container_name
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.build.name
    }
  }

  tags = var.tags
}

# -------------------------------------------------------------- pipeline ---

resource "aws_iam_role" "pipeline" {
  name        = "${var.name}-pipeline"
  description = "CodePipeline ${var.name}: source, build, ECS deploy"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codepipeline.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = {
          "aws:SourceAccount" = local.account_id
          "aws:SourceArn"     = local.pipeline_arn
        }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "pipeline" {
  name = "pipeline"
  role = aws_iam_role.pipeline.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Artifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketVersioning"]
        Resource = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
      },
      {
        # Both service prefixes: connections made before the 2024 rename are codestar-connections.
        Sid      = "UseConnection"
        Effect   = "Allow"
        Action   = ["codeconnections:UseConnection", "codestar-connections:UseConnection"]
        Resource = local.connection_arn
      },
      {
        Sid      = "RunBuild"
        Effect   = "Allow"
        Action   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds"]
        Resource = aws_codebuild_project.build.arn
      },
      {
        Sid      = "UpdateService"
        Effect   = "Allow"
        Action   = ["ecs:DescribeServices", "ecs:UpdateService"]
        Resource = var.ecs_service_arn
      },
      {
        # No resource-level permissions exist for these.
        Sid      = "TaskDefinitions"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:DescribeTasks", "ecs:ListTasks"]
        Resource = "*"
      },
      {
        Sid       = "TagNewTaskDefinitions"
        Effect    = "Allow"
        Action    = ["ecs:TagResource"]
        Resource  = "*"
        Condition = { StringEquals = { "ecs:CreateAction" = "RegisterTaskDefinition" } }
      },
      {
        Sid       = "PassTaskRoles"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = var.pass_role_arns
        Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
    ]
  })
}

resource "aws_codepipeline" "this" {
  name          = var.name
  role_arn      = aws_iam_role.pipeline.arn
  pipeline_type = "V2"
  # A newer push waits for the running deploy instead of overtaking it.
  execution_mode = "QUEUED"

  artifact_store {
    type     = "S3"
    location = aws_s3_bucket.artifacts.bucket
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      namespace        = "SourceVariables"
      output_artifacts = ["source"]

      configuration = {
        ConnectionArn    = local.connection_arn
        FullRepositoryId = var.github_repository
        BranchName       = var.github_branch
        # A full git clone in the build (file modes kept, .git present) rather than a zip.
        OutputArtifactFormat = "CODEBUILD_CLONE_REF"
        DetectChanges        = "true"
      }
    }
  }

  stage {
    name = "Build"

    action {
      name             = "TestBuildPush"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["source"]
      output_artifacts = ["imagedefinitions"]

      configuration = {
        ProjectName = aws_codebuild_project.build.name
        # The commit the source stage saw: the image tag (a later push cannot slip in).
        EnvironmentVariables = jsonencode([
          { name = "COMMIT_ID", value = "#{SourceVariables.CommitId}", type = "PLAINTEXT" },
        ])
      }
    }
  }

  stage {
    name = "Deploy"

    action {
      name            = "DeployToEcs"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "ECS"
      version         = "1"
      input_artifacts = ["imagedefinitions"]

      configuration = {
        ClusterName       = var.ecs_cluster_name
        ServiceName       = var.ecs_service_name
        FileName          = "imagedefinitions.json"
        DeploymentTimeout = tostring(var.deploy_timeout_minutes)
      }
    }
  }

  tags = var.tags
}
