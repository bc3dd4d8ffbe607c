variable "name" {
  description = "Name prefix for every resource (e.g. \"ml-serve-ecs-dev\")."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the new VPC. Ignored when vpc_id is set."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block such as 10.20.0.0/16."
  }
}

variable "azs" {
  description = "Availability zones for the public subnets (at least 2). Null picks the first two available in the region."
  type        = list(string)
  default     = null

  validation {
    condition     = var.azs == null || length(coalesce(var.azs, [])) >= 2
    error_message = "azs must list at least two availability zones."
  }
}

variable "vpc_id" {
  description = "Use this existing VPC instead of creating one. Requires subnet_ids."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Existing subnets (in at least 2 AZs) for the load balancer and tasks, used with vpc_id. They need a route to the internet (or VPC endpoints) so tasks can reach ECR, S3 and CloudWatch Logs."
  type        = list(string)
  default     = []

  validation {
    condition     = var.vpc_id == null || length(var.subnet_ids) >= 2
    error_message = "When vpc_id is set, subnet_ids must list at least two subnets in different AZs."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
