variable "name" {
  description = "Repository name (e.g. \"ml-serve-ecs\")."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.name)) && length(var.name) <= 256
    error_message = "name must be a valid ECR repository name (lowercase letters, digits, . _ - and /)."
  }
}

variable "max_image_count" {
  description = "How many tagged images to keep; older ones expire (rollback targets live in this window)."
  type        = number
  default     = 30

  validation {
    condition     = var.max_image_count >= 1
    error_message = "max_image_count must be at least 1."
  }
}

variable "untagged_image_expiry_days" {
  description = "Days after which untagged images (e.g. leftovers of interrupted pushes) expire."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_image_expiry_days >= 1
    error_message = "untagged_image_expiry_days must be at least 1."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for image encryption. Null uses AES256 (ECR managed keys)."
  type        = string
  default     = null
}

variable "force_delete" {
  description = "Let `terraform destroy` delete the repository even if it still holds images. Keep false in production."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
