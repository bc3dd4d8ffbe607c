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
