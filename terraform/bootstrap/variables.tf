variable "aws_region" {
  description = "Region of the state bucket (use the region of the env stacks)."
  type        = string
  default     = "eu-west-1"
}

variable "project" {
  description = "Project name; prefix of the bucket name."
  type        = string
  default     = "ml-serve-ecs"
}

variable "bucket_name" {
  description = "Name of the state bucket. Null uses \"<project>-tfstate-<account id>-<region>\" (globally unique)."
  type        = string
  default     = null
}

variable "noncurrent_version_expiration_days" {
  description = "Days to keep old versions of state files (your undo window for state)."
  type        = number
  default     = 90
}

variable "github_repository" {
  description = "GitHub repository (\"owner/name\") whose workflows run Terraform (terraform.yml, destroy.yml). Null: no CI roles."
  type        = string
  default     = null
}

variable "github_oidc_provider_arn" {
  description = "The account's existing GitHub OIDC provider. Null creates it here; then give the env stacks create_github_oidc_provider = false and this stack's github_oidc_provider_arn output."
  type        = string
  default     = null
}

variable "terraform_codebuild_connection_arn" {
  description = "CodeConnections connection to GitHub for the Terraform CodeBuild project (null: no CodeBuild project)."
  type        = string
  default     = null
}

variable "tfvars_parameter_name" {
  description = "SSM parameter holding terraform/envs/dev's terraform.tfvars for the CodeBuild project."
  type        = string
  default     = "/ml-serve-ecs/dev/terraform.tfvars"
}
