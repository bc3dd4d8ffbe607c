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

variable "private_networking" {
  description = "Put the tasks in private subnets without public IPs, reaching AWS through VPC endpoints (S3 gateway and interface_endpoints). Costs about $7.30 a month per interface endpoint per AZ (4 endpoints in 2 AZs: ~$58) plus $0.01/GB. Off: tasks run in the public subnets with public IPs (free, less private)."
  type        = bool
  default     = true
}

variable "interface_endpoints" {
  description = "Interface endpoints created with private_networking, as service names after com.amazonaws.<region>. The defaults are what every task start needs (image pull, logs, role credentials); add \"secretsmanager\" for secrets in the task definition or API tokens, \"ssmmessages\" for ECS Exec, \"aps-workspaces\" for a Prometheus remote-write sidecar."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "logs", "sts"]

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9.-]+$", s))])
    error_message = "interface_endpoints must be service names such as \"ecr.api\" or \"logs\"."
  }
}

variable "nat_gateway" {
  description = "Add one NAT gateway (~$33 a month plus $0.045/GB) for private subnets that still need the internet (e.g. a model store or API outside AWS). Not needed for ECR, S3, CloudWatch Logs or STS, which the endpoints serve."
  type        = bool
  default     = false
}

variable "private_subnet_ids" {
  description = "With vpc_id: existing private subnets (at least 2 AZs) for the tasks. Empty: the tasks use subnet_ids with public IPs."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.private_subnet_ids) == 0 || length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids must be empty or list at least two subnets in different AZs."
  }
}

variable "flow_logs_enabled" {
  description = "Send VPC flow logs to a CloudWatch log group (ingestion ~$0.50/GB)."
  type        = bool
  default     = true
}

variable "flow_logs_traffic_type" {
  description = "Which flows to log: ALL, ACCEPT or REJECT."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ACCEPT", "REJECT"], var.flow_logs_traffic_type)
    error_message = "flow_logs_traffic_type must be ALL, ACCEPT or REJECT."
  }
}

variable "flow_logs_retention_days" {
  description = "Days the flow logs are kept."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "flow_logs_kms_key_arn" {
  description = "KMS key for the flow log group (null: CloudWatch's own encryption)."
  type        = string
  default     = null
}
