variable "name" {
  description = "Name prefix of the pipeline, its build project, roles and artifact bucket (e.g. \"ml-serve-ecs-dev\")."
  type        = string
}

# ---------------------------------------------------------------- source ---

variable "github_repository" {
  description = "GitHub repository the pipeline builds, as \"owner/name\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must look like \"owner/name\"."
  }
}

variable "github_branch" {
  description = "Branch whose pushes start the pipeline."
  type        = string
  default     = "main"
}

variable "connection_arn" {
  description = "ARN of an existing CodeConnections (or CodeStar Connections) connection to GitHub. Null creates one, which stays PENDING until someone approves it once in the console (docs/DEPLOY.md)."
  type        = string
  default     = null

  validation {
    condition     = var.connection_arn == null || can(regex("^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:[0-9]{12}:connection/[A-Za-z0-9-]+$", var.connection_arn))
    error_message = "connection_arn must be a CodeConnections or CodeStar Connections connection ARN."
  }
}

# ---------------------------------------------------------- build, deploy ---

variable "ecr_repository_arn" {
  description = "ECR repository the build pushes to."
  type        = string
}

variable "ecr_repository_url" {
  description = "ECR repository URL, handed to the build as ECR_REPOSITORY_URL."
  type        = string
}

variable "ecs_cluster_name" {
  description = "ECS cluster of the service the pipeline deploys."
  type        = string
}

variable "ecs_service_name" {
  description = "ECS service the pipeline deploys."
  type        = string
}

variable "ecs_service_arn" {
  description = "ARN of that service (the pipeline may update only it)."
  type        = string
}

variable "container_name" {
  description = "Container whose image the deploy replaces (the name in imagedefinitions.json)."
  type        = string
}

variable "pass_role_arns" {
  description = "Roles the deploy may pass to ECS in the new task definition revision (task and execution roles)."
  type        = list(string)
}

variable "deploy_timeout_minutes" {
  description = "How long the ECS deploy action waits for the rollout (1-60)."
  type        = number
  default     = 30

  validation {
    condition     = var.deploy_timeout_minutes >= 1 && var.deploy_timeout_minutes <= 60
    error_message = "deploy_timeout_minutes must be between 1 and 60."
  }
}

variable "codebuild_compute_type" {
  description = "CodeBuild compute type of the build."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "codebuild_image" {
  description = "CodeBuild image of the build (a JDK 17+; no Docker daemon needed)."
  type        = string
  default     = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
}

variable "codebuild_timeout_minutes" {
  description = "Build timeout in minutes."
  type        = number
  default     = 45
}

variable "artifact_expiration_days" {
  description = "Days the artifact bucket keeps pipeline artifacts (source zips, imagedefinitions.json)."
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
