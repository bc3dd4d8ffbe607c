variable "bucket_name" {
  description = "Globally unique bucket name for models and captured prediction data."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "models_prefix" {
  description = "Key prefix (no slashes at either end) under which models live as <prefix>/<model-name>/<version>/."
  type        = string
  default     = "models"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$", var.models_prefix))
    error_message = "models_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "capture_prefix" {
  description = "Key prefix (no slashes at either end) under which the service writes sampled requests/responses."
  type        = string
  default     = "capture"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$", var.capture_prefix))
    error_message = "capture_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "capture_expiration_days" {
  description = "Days after which captured data is deleted."
  type        = number
  default     = 90

  validation {
    condition     = var.capture_expiration_days >= 1
    error_message = "capture_expiration_days must be at least 1."
  }
}

variable "capture_transition_to_ia_days" {
  description = "Days after which captured data moves to STANDARD_IA (at least 30, and below capture_expiration_days). Null keeps it in STANDARD."
  type        = number
  default     = null

  validation {
    condition     = var.capture_transition_to_ia_days == null || try(var.capture_transition_to_ia_days >= 30 && var.capture_transition_to_ia_days < var.capture_expiration_days, false)
    error_message = "capture_transition_to_ia_days must be >= 30 and less than capture_expiration_days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days to keep overwritten or deleted object versions (the undo window for model uploads)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for SSE-KMS. Null uses SSE-S3 (AES256)."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with all its objects and versions. Keep false in production."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
