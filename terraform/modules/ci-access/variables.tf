variable "name" {
  description = "Name prefix of the roles and the CodeBuild project (e.g. \"ml-serve-ecs-dev\")."
  type        = string
}

# ------------------------------------------------------------ GitHub OIDC ---

variable "github_repository" {
  description = "GitHub repository allowed to deploy, as \"owner/name\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must look like \"owner/name\"."
  }
}

variable "github_branch" {
  description = "Branch whose workflows may assume the deploy role."
  type        = string
  default     = "main"
}

variable "github_environment" {
  description = "GitHub environment of the deploy job (`environment:` in deploy.yml). GitHub then puts `environment:<name>` instead of the branch in the `sub` claim, and only jobs that passed the environment's protection rules can assume the role. Null trusts the branch `github_branch` instead (weaker: any workflow on that branch)."
  type        = string
  default     = "production"
}

variable "deploy_workflow_ref" {
  description = "Workflow file and ref of the deploy job, e.g. \".github/workflows/deploy.yml@refs/heads/main\", for a repository whose OIDC `sub` claim is customised to include `job_workflow_ref` (AWS reads no other custom claim). Null: the default `sub` form."
  type        = string
  default     = null

  validation {
    condition     = var.deploy_workflow_ref == null || can(regex("^\\.github/workflows/[A-Za-z0-9._-]+\\.ya?ml@refs/(heads|tags)/[A-Za-z0-9._/-]+$", var.deploy_workflow_ref))
    error_message = "deploy_workflow_ref must look like \".github/workflows/deploy.yml@refs/heads/main\"."
  }
}

variable "github_repository_immutable" {
  description = "The repository part of GitHub's immutable `sub` claim, with owner and repository IDs (e.g. \"octo-org-123456/octo-repo-456789\"), exactly as the repository's OIDC subject preview shows it. Repositories created or renamed since 2026-06-18, or opted in, get this form. When set, the trust accepts it too."
  type        = string
  default     = null
}

variable "accept_name_based_subject" {
  description = "Also accept the name-only `sub` form (repo:owner/name:...). Turn off once the repository uses immutable subject claims, so a re-registered name can never assume the role."
  type        = bool
  default     = true

  validation {
    condition     = var.accept_name_based_subject || var.github_repository_immutable != null
    error_message = "With accept_name_based_subject = false, github_repository_immutable must be set (or nothing could assume the role)."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider. An account has at most one per URL: set false and pass oidc_provider_arn when it already exists."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of an existing GitHub OIDC provider (with create_oidc_provider = false)."
  type        = string
  default     = null

  validation {
    condition     = var.create_oidc_provider || var.oidc_provider_arn != null
    error_message = "oidc_provider_arn is required when create_oidc_provider is false."
  }
}

# ------------------------------------------------------ what CI may touch ---

variable "ecr_repository_arn" {
  description = "ECR repository CI pushes images to."
  type        = string
}

variable "ecr_repository_url" {
  description = "ECR repository URL, handed to CodeBuild as ECR_REPOSITORY_URL."
  type        = string
}

variable "ecs_service_arn" {
  description = "ECS service CI updates."
  type        = string
}

variable "pass_role_arns" {
  description = "Roles CI may pass to ECS in new task definitions (the task role and the execution role)."
  type        = list(string)
}

# -------------------------------------------------------------- CodeBuild ---

variable "codebuild_source_location" {
  description = "HTTPS clone URL of the repository CodeBuild builds. Null derives https://github.com/<github_repository>.git. Private repositories need CodeBuild GitHub credentials or a connection (see README)."
  type        = string
  default     = null
}

variable "codebuild_compute_type" {
  description = "CodeBuild compute type (SMALL: 2 vCPU/3 GB, MEDIUM: 4 vCPU/7 GB)."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "codebuild_image" {
  description = "CodeBuild build image (needs a JDK 17+ for Maven and Jib; no Docker daemon is needed)."
  type        = string
  default     = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
}

variable "codebuild_timeout_minutes" {
  description = "Build timeout in minutes."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the build logs."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
