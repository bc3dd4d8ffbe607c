variable "name" {
  description = "Name prefix of the roles and the CodeBuild project (e.g. \"ml-serve-ecs\")."
  type        = string
}

variable "stack_prefix" {
  description = "Prefix of the names of the resources the stacks create (IAM roles and policies, S3 buckets): the apply role may manage IAM and S3 only under it. \"ml-serve-ecs-\" covers ml-serve-ecs-dev-*."
  type        = string
}

# ------------------------------------------------------------ GitHub OIDC ---

variable "github_repository" {
  description = "GitHub repository whose workflows run Terraform, as \"owner/name\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must look like \"owner/name\"."
  }
}

variable "github_repository_immutable" {
  description = "The repository part of GitHub's immutable `sub` claim (\"owner-<id>/name-<id>\"), if the repository uses them; trusted besides the name form."
  type        = string
  default     = null
}

variable "terraform_environment" {
  description = "GitHub environment of the apply and destroy jobs (terraform.yml, destroy.yml). Give it required reviewers: only jobs in it can assume the apply role."
  type        = string
  default     = "terraform"
}

variable "oidc_provider_arn" {
  description = "ARN of the account's GitHub OIDC provider (token.actions.githubusercontent.com)."
  type        = string
}

# ----------------------------------------------------------------- state ---

variable "state_bucket_name" {
  description = "Bucket holding the stacks' state (terraform/bootstrap)."
  type        = string
}

variable "state_key_prefix" {
  description = "Prefix of the state keys the roles may read (and the apply role write), e.g. \"ml-serve-ecs/\" for ml-serve-ecs/dev/terraform.tfstate."
  type        = string
  default     = "ml-serve-ecs/"
}

# ----------------------------------------------------------- permissions ---

variable "extra_read_actions" {
  description = "More read-only actions the plan role needs (services a stack adds later)."
  type        = list(string)
  default     = []
}

variable "extra_apply_policy_arns" {
  description = "More managed policies for the apply role and the Terraform CodeBuild project (services a stack adds later)."
  type        = list(string)
  default     = []
}

# ------------------------------------------------------------- CodeBuild ---

variable "codebuild_connection_arn" {
  description = "CodeConnections connection to GitHub for the Terraform CodeBuild project. Null: no CodeBuild project (GitHub Actions only)."
  type        = string
  default     = null
}

variable "github_branch" {
  description = "Branch the Terraform CodeBuild project checks out."
  type        = string
  default     = "main"
}

variable "environment_name" {
  description = "Environment the CodeBuild project manages; also the word CONFIRM_DESTROY must equal for a destroy."
  type        = string
  default     = "dev"
}

variable "tfvars_parameter_name" {
  description = "SSM parameter (SecureString or String) holding the stack's terraform.tfvars, read by the CodeBuild project."
  type        = string
  default     = "/ml-serve-ecs/dev/terraform.tfvars"

  validation {
    condition     = startswith(var.tfvars_parameter_name, "/")
    error_message = "tfvars_parameter_name must be a full parameter path starting with \"/\"."
  }
}

variable "codebuild_image" {
  description = "CodeBuild image of the Terraform project."
  type        = string
  default     = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the Terraform build logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
