# CI's access to AWS, with no long-lived keys:
# - GitHub Actions assumes a deploy role through the account's OIDC provider;
#   the trust names this repository and its protected deploy environment
#   (or, without one, its branch) exactly.
# - CodeBuild builds and pushes the image with its own role.
# The roles that run Terraform itself live outside the stack they manage
# (modules/terraform-ci, instantiated by terraform/bootstrap).

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  oidc_host         = "token.actions.githubusercontent.com"
  oidc_provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : var.oidc_provider_arn

  # "environment:production" when the job runs in an environment (the default),
  # "ref:refs/heads/main" otherwise.
  subject_context = var.github_environment == null ? "ref:refs/heads/${var.github_branch}" : "environment:${var.github_environment}"
  subject_repos = compact([
    var.accept_name_based_subject ? var.github_repository : "",
    var.github_repository_immutable == null ? "" : var.github_repository_immutable,
  ])
  # With the repository's OIDC `sub` customised to include job_workflow_ref
  # (AWS cannot read other claims), the trust also names the workflow file and ref.
  workflow_suffix = var.deploy_workflow_ref == null ? "" : ":job_workflow_ref:${var.github_repository}/${var.deploy_workflow_ref}"
  github_subjects = [for r in local.subject_repos : "repo:${r}:${local.subject_context}${local.workflow_suffix}"]

  ecr_push_actions = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
  ]
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # No thumbprint_list: AWS validates GitHub's certificate against its own
  # trusted CA library for this issuer.

  tags = var.tags
}

# ------------------------------------------------------------ deploy role ---

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-github-deploy"
  description          = "GitHub Actions in ${var.github_repository} (${local.subject_context}) deploy ${var.name}"
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.oidc_host}:aud" = "sts.amazonaws.com"
          "${local.oidc_host}:sub" = local.github_subjects
        }
      }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "deploy" {
  name = "deploy"
  role = aws_iam_role.deploy.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
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
        Sid      = "UpdateService"
        Effect   = "Allow"
        Action   = ["ecs:DescribeServices", "ecs:UpdateService"]
        Resource = var.ecs_service_arn
      },
      {
        # These two actions have no resource-level permissions.
        Sid      = "TaskDefinitions"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
        Resource = "*"
      },
      {
        # Registering a revision with tags (copied from the current one).
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
