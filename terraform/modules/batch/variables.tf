variable "name" {
  description = "Name prefix of every resource (e.g. ml-serve-ecs-dev)."
  type        = string
}

variable "image" {
  description = "Container image of the service (the batch job is a command of the same image)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ECR repository the image is pulled from (null: a public registry)."
  type        = string
  default     = null
}

variable "cluster_arn" {
  description = "ECS cluster the Fargate tasks run in (the service's cluster is fine)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks (for their security group)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the tasks."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give tasks public IPs (needed in public subnets without NAT or VPC endpoints)."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Bucket holding the models and the batch input and output prefixes."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of that bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket when it uses SSE-KMS (null: SSE-S3)."
  type        = string
  default     = null
}

variable "models_prefix" {
  description = "Key prefix of the models in the bucket (no trailing slash)."
  type        = string
  default     = "models"
}

variable "input_prefix" {
  description = "Key prefix of job inputs: <input_prefix>/<job>/<files>, started by <input_prefix>/<job>/_READY."
  type        = string
  default     = "batch/input"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9/_-]*[a-z0-9]$", var.input_prefix))
    error_message = "input_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "output_prefix" {
  description = "Key prefix of job outputs: <output_prefix>/<job>/."
  type        = string
  default     = "batch/output"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9/_-]*[a-z0-9]$", var.output_prefix))
    error_message = "output_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "model_name" {
  description = "Model the jobs score with (BATCH_MODEL); null: the only model in the store. Also the `model` attribute of failure notifications."
  type        = string
  default     = null
}

variable "environment" {
  description = "Extra environment of the batch container (e.g. LOW_CONFIDENCE_BAND, BATCH_CHUNK_ROWS, BATCH_LABELS, BATCH_CSV_MULTILINE)."
  type        = map(string)
  default     = {}
}

variable "cpu" {
  description = "Fargate CPU units of one batch task."
  type        = number
  default     = 2048
}

variable "memory" {
  description = "Fargate memory (MiB) of one batch task."
  type        = number
  default     = 4096
}

variable "ephemeral_storage_gib" {
  description = "Task storage for the part being written (21-200 GiB); a part's outputs are staged on it."
  type        = number
  default     = 21
}

variable "split_bytes" {
  description = "Input files larger than this are split into byte ranges of about this size, one task each (BATCH_SPLIT_BYTES)."
  type        = number
  default     = 536870912
}

variable "max_concurrency" {
  description = "Most scoring tasks running at once (the Distributed Map's MaxConcurrency)."
  type        = number
  default     = 4

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 1000
    error_message = "max_concurrency must be 1-1000."
  }
}

variable "tolerated_failure_percentage" {
  description = "Share of parts that may fail (after retries) without failing the job; a job with a failed part gets no manifest from the merge step anyway, so keep 0 unless partial results are useful."
  type        = number
  default     = 0
}

variable "part_timeout_seconds" {
  description = "Longest one scoring task may run (TimeoutSeconds of the task state)."
  type        = number
  default     = 3600
}

variable "step_timeout_seconds" {
  description = "Longest the plan and merge tasks may run."
  type        = number
  default     = 1800
}

variable "task_retries" {
  description = "Retries of a task that failed to start or stopped abnormally (capacity, Spot, image pull)."
  type        = number
  default     = 2
}

variable "notification_emails" {
  description = "Email addresses subscribed to the job notifications (each must confirm)."
  type        = list(string)
  default     = []
}

variable "enable_bucket_eventbridge" {
  description = "Turn on EventBridge notifications for the bucket (needed for the automatic start; a bucket has one notification configuration, so set false if another module manages it)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the batch task and state machine logs."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
