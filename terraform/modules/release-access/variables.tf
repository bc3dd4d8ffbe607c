variable "name" {
  description = "Name prefix of the role and the topic (e.g. \"ml-serve-ecs-dev\")."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the account's GitHub OIDC provider (the ci-access module's `oidc_provider_arn` output)."
  type        = string
}

variable "github_repositories" {
  description = "Repositories whose release workflow may assume the role, as they appear in the OIDC `sub` claim: \"owner/name\" (and/or the immutable \"owner-ID/name-ID\" form)."
  type        = list(string)

  validation {
    condition     = length(var.github_repositories) > 0 && alltrue([for r in var.github_repositories : can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", r))])
    error_message = "github_repositories needs at least one \"owner/name\"."
  }
}

variable "github_branch" {
  description = "Branch whose workflows may assume the role."
  type        = string
  default     = "main"
}

variable "github_environment" {
  description = "When the release job runs in a GitHub environment, the `sub` claim names it instead of the branch: name it here (e.g. \"release\", with required reviewers)."
  type        = string
  default     = null
}

variable "allow_ecs_tasks" {
  description = "Also let ECS tasks assume the role, so the controller can run as a one-off task of the service's image (scripts/release-model.sh --ecs). Whoever runs it then needs iam:PassRole on this role."
  type        = bool
  default     = false
}

variable "model_bucket_arn" {
  description = "ARN of the model bucket."
  type        = string
}

variable "models_prefix" {
  description = "Key prefix the service polls (MODEL_BASE_PATH's prefix), without slashes at the ends."
  type        = string
  default     = "models"

  validation {
    condition     = length(trim(var.models_prefix, "/")) > 0
    error_message = "models_prefix must not be empty: the role may write serving.json under it only."
  }
}

variable "model_kms_key_arn" {
  description = "KMS key encrypting the model bucket, if it is a customer managed key (null for SSE-S3)."
  type        = string
  default     = null
}

variable "amp_workspace_arn" {
  description = "Amazon Managed Prometheus workspace holding the service's metrics; null leaves the role without metrics access (use PROMETHEUS_URL to another Prometheus)."
  type        = string
  default     = null
}

variable "topic_kms_key_id" {
  description = "KMS key for the release topic (SSE); the AWS managed SNS key by default."
  type        = string
  default     = "alias/aws/sns"
}

variable "notification_emails" {
  description = "Addresses subscribed to release decisions (each confirms by email)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
