variable "name" {
  type        = string
  description = "Name prefix (e.g. mlserve-dev)."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
  default     = {}
}

variable "models" {
  type        = list(string)
  description = "Models to report on; one schedule each. Every version and variant seen in the window gets its own report."

  validation {
    condition     = alltrue([for m in var.models : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", m))])
    error_message = "Model names are letters, digits, '.', '_' and '-' (the service's identifier rule)."
  }
}

variable "schedule_expression" {
  type        = string
  description = "EventBridge Scheduler expression: when the job runs (rate(...) or cron(...))."
  default     = "cron(5 * * * ? *)"
}

variable "window" {
  type        = string
  description = "ISO-8601 duration of captured data each run reads, ending at the run's start (PT1H with the hourly default)."
  default     = "PT1H"
}

variable "min_rows" {
  type        = number
  description = "Below this many captured rows a report says \"not enough data\" instead of judging."
  default     = 200
}

variable "image" {
  type        = string
  description = "The service's image (the drift job is its `drift` command)."
}

variable "cluster_arn" {
  type        = string
  description = "ECS cluster the job's tasks run in."
}

variable "execution_role_arn" {
  type        = string
  description = "Execution role to start the task with (the service's: pulls the same image, writes the same log group)."
}

variable "log_group_name" {
  type        = string
  description = "CloudWatch log group for the job's output (stream prefix drift)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets of the job's tasks."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the job's tasks (they need outbound HTTPS to S3, SNS and ECR only)."
}

variable "assign_public_ip" {
  type        = bool
  description = "Give the job's tasks a public IP (public subnets without NAT)."
  default     = false
}

variable "cpu" {
  type        = number
  description = "Fargate CPU units of one job task."
  default     = 512
}

variable "memory" {
  type        = number
  description = "Fargate memory (MiB) of one job task."
  default     = 1024
}

variable "bucket_name" {
  type        = string
  description = "Bucket holding models (baselines), capture and reports."
}

variable "bucket_arn" {
  type        = string
  description = "ARN of that bucket (the IAM policy's resource)."
}

variable "bucket_kms_key_arn" {
  type        = string
  description = "KMS key of the bucket, when it uses SSE-KMS (null: none)."
  default     = null
}

variable "models_prefix" {
  type        = string
  description = "Key prefix of the models (baselines are <model>/<version>/assets.extra/baseline.json below it)."
}

variable "capture_prefix" {
  type        = string
  description = "Key prefix of the captured predictions."
}

variable "reports_prefix" {
  type        = string
  description = "Key prefix the reports are written under."
  default     = "drift-reports"
}

variable "sns_topic_arn" {
  type        = string
  description = "Topic that hears about every report with a violation."
}
