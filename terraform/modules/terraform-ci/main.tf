# Who may run Terraform on the stacks, from where. These roles live outside the
# stacks they manage (terraform/bootstrap creates them): a stack cannot create
# the role that first applies it, and a destroy must not delete the role it runs
# as half-way through.
#
#   <name>-terraform-plan   GitHub, pull_request events only: read the account,
#                           read state, write only the state lock file.
#   <name>-terraform-apply  GitHub, jobs in the protected `terraform`
#                           environment only: manage the stacks, write state.
#   <name>-terraform-build  the CodeBuild project running buildspec-terraform.yml
#                           (plan / apply / destroy), bound by aws:SourceArn.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  oidc_host = "token.actions.githubusercontent.com"
  repos     = compact([var.github_repository, var.github_repository_immutable == null ? "" : var.github_repository_immutable])

  plan_subjects  = [for r in local.repos : "repo:${r}:pull_request"]
  apply_subjects = [for r in local.repos : "repo:${r}:environment:${var.terraform_environment}"]

  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket_name}"
  state_objects    = "${local.state_bucket_arn}/${var.state_key_prefix}*"
  state_locks      = "${local.state_bucket_arn}/${var.state_key_prefix}*.tflock"

  codebuild          = var.codebuild_connection_arn != null
  codebuild_name     = "${var.name}-terraform"
  codebuild_arn      = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${local.codebuild_name}"
  tfvars_param_arn   = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.tfvars_parameter_name}"
  codebuild_log_name = "/aws/codebuild/${local.codebuild_name}"

  # What `terraform plan` reads to refresh the stacks: control-plane reads only
  # (no s3:GetObject outside the state, no secret values).
  read_actions = concat([
    "sts:GetCallerIdentity",
    "ec2:Describe*", "elasticloadbalancing:Describe*",
    "ecs:Describe*", "ecs:List*",
    "ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
    "s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
    "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration",
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags",
    "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:GetOpenIDConnectProvider",
    "iam:ListOpenIDConnectProviders", "iam:ListInstanceProfilesForRole",
    "logs:DescribeLogGroups", "logs:DescribeMetricFilters", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    "cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource",
    "sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource",
    "application-autoscaling:Describe*", "application-autoscaling:ListTagsForResource",
    "codebuild:BatchGetProjects",
    "codepipeline:GetPipeline", "codepipeline:ListTagsForResource",
    "codeconnections:GetConnection", "codeconnections:ListTagsForResource",
    "codestar-connections:GetConnection", "codestar-connections:ListTagsForResource",
    # Services the stacks grow into (batch, monitoring, hardening): reads only.
    "aps:Describe*", "aps:List*", "wafv2:Get*", "wafv2:List*", "states:Describe*", "states:List*",
    "events:Describe*", "events:List*", "sqs:GetQueueAttributes", "sqs:ListQueueTags",
  ], var.extra_read_actions)

  # Services the stacks are made of: the apply role manages them. IAM and S3,
  # where names are ours to choose, only under stack_prefix.
  apply_services = [
    "ec2", "elasticloadbalancing", "ecs", "ecr", "logs", "cloudwatch", "sns", "application-autoscaling",
    "codebuild", "codepipeline", "codeconnections", "codestar-connections",
    "aps", "wafv2", "states", "events", "sqs",
  ]
}

locals {
  # A web-identity trust for GitHub's tokens with exactly these `sub` claims.
  github_trust = { for role, subjects in { plan = local.plan_subjects, apply = local.apply_subjects } : role => jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.oidc_host}:aud" = "sts.amazonaws.com"
          "${local.oidc_host}:sub" = subjects
        }
      }
    }]
  }) }
}

# ------------------------------------------------------------ plan role ---

resource "aws_iam_role" "plan" {
  name                 = "${var.name}-terraform-plan"
  description          = "GitHub pull requests in ${var.github_repository}: terraform plan (read-only)"
  max_session_duration = 3600
  assume_role_policy   = local.github_trust.plan

  tags = var.tags
}

resource "aws_iam_role_policy" "plan" {
  name = "plan"
  role = aws_iam_role.plan.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadTheAccount"
        Effect   = "Allow"
        Action   = local.read_actions
        Resource = "*"
      },
      {
        Sid      = "ReadState"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = local.state_objects
      },
      {
        # S3 lock files (use_lockfile): plan takes and releases the lock.
        Sid      = "WriteTheLockOnly"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:DeleteObject"]
        Resource = local.state_locks
      },
    ]
  })
}

# ----------------------------------------------------------- apply role ---

resource "aws_iam_policy" "apply" {
  name        = "${var.name}-terraform-apply"
  description = "Manage the ${var.stack_prefix}* stacks: their services, IAM and S3 under the prefix, their state"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StackServices"
        Effect   = "Allow"
        Action   = [for s in local.apply_services : "${s}:*"]
        Resource = "*"
      },
      {
        Sid    = "StackRolesAndPolicies"
        Effect = "Allow"
        Action = ["iam:*"]
        Resource = [
          "arn:${local.partition}:iam::${local.account_id}:role/${var.stack_prefix}*",
          "arn:${local.partition}:iam::${local.account_id}:policy/${var.stack_prefix}*",
          "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.oidc_host}",
        ]
      },
      {
        Sid      = "ReadIam"
        Effect   = "Allow"
        Action   = ["iam:Get*", "iam:List*"]
        Resource = "*"
      },
      {
        # ECS, ELB and Application Auto Scaling create their service-linked roles on first use.
        Sid      = "ServiceLinkedRoles"
        Effect   = "Allow"
        Action   = ["iam:CreateServiceLinkedRole"]
        Resource = "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"
      },
      {
        Sid      = "StackBuckets"
        Effect   = "Allow"
        Action   = ["s3:*"]
        Resource = ["arn:${local.partition}:s3:::${var.stack_prefix}*", "arn:${local.partition}:s3:::${var.stack_prefix}*/*"]
      },
      {
        Sid      = "ListBuckets"
        Effect   = "Allow"
        Action   = ["s3:ListAllMyBuckets", "sts:GetCallerIdentity"]
        Resource = "*"
      },
      {
        Sid      = "State"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = local.state_objects
      },
      {
        Sid      = "ListState"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = local.state_bucket_arn
      },
    ]
  })

  tags = var.tags
}

resource "aws_iam_role" "apply" {
  name                 = "${var.name}-terraform-apply"
  description          = "GitHub jobs in the ${var.terraform_environment} environment of ${var.github_repository}: terraform apply/destroy"
  max_session_duration = 3600
  assume_role_policy   = local.github_trust.apply

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "apply" {
  role       = aws_iam_role.apply.name
  policy_arn = aws_iam_policy.apply.arn
}

resource "aws_iam_role_policy_attachment" "apply_extra" {
  for_each = toset(var.extra_apply_policy_arns)

  role       = aws_iam_role.apply.name
  policy_arn = each.value
}
