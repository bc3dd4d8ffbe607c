# ---------------------------------------------------------------- identity ---

variable "name" {
  description = "Name of the cluster, service, task family, load balancer and roles (e.g. \"ml-serve-ecs-dev\"). At most 28 characters so derived names fit AWS limits."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,26}[a-z0-9]$", var.name))
    error_message = "name must be 3-28 lowercase letters, digits or hyphens."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

# ----------------------------------------------------------------- network ---

variable "vpc_id" {
  description = "VPC of the load balancer and tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets (in at least 2 AZs) for the load balancer and the tasks."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets in different AZs."
  }
}

variable "task_subnet_ids" {
  description = "Subnets for the tasks when they differ from the load balancer's (private subnets). Null: subnet_ids."
  type        = list(string)
  default     = null

  validation {
    condition     = var.task_subnet_ids == null || length(coalesce(var.task_subnet_ids, [])) >= 2
    error_message = "task_subnet_ids must list at least two subnets in different AZs."
  }
}

variable "task_egress_cidrs" {
  description = "IPv4 CIDR blocks the tasks may reach on HTTPS (443). Private networking without NAT: the VPC's CIDR (interface endpoints); with public IPs or a NAT: 0.0.0.0/0."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.task_egress_cidrs : can(cidrnetmask(c))])
    error_message = "task_egress_cidrs must contain IPv4 CIDR blocks."
  }
}

variable "task_egress_prefix_list_ids" {
  description = "Prefix lists the tasks may reach on HTTPS (443), e.g. the S3 gateway endpoint's."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Give tasks a public IP. Needed in public subnets without NAT (the default network) to reach ECR, S3 and CloudWatch Logs; inbound traffic is still limited to the load balancer by the security group."
  type        = bool
  default     = true
}

variable "alb_ingress_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the load balancer's listeners."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.alb_ingress_cidrs : can(cidrnetmask(c))])
    error_message = "alb_ingress_cidrs must contain IPv4 CIDR blocks."
  }
}

variable "alb_internal" {
  description = "Make the load balancer internal (reachable only inside the VPC)."
  type        = bool
  default     = false
}

variable "alb_access_logs" {
  description = "Write the load balancer's access logs to an S3 bucket this module creates (SSE-S3, public access blocked, TLS only, expiring after alb_access_logs_retention_days)."
  type        = bool
  default     = true
}

variable "alb_access_logs_retention_days" {
  description = "Days the load balancer's access logs are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.alb_access_logs_retention_days >= 1
    error_message = "alb_access_logs_retention_days must be at least 1."
  }
}

variable "alb_access_logs_force_destroy" {
  description = "Let `terraform destroy` delete the access-log bucket with its logs in it."
  type        = bool
  default     = false
}

variable "waf_enabled" {
  description = "Put a WAFv2 web ACL in front of the load balancer: AWS managed common and known-bad-inputs rules and a per-IP rate limit (about $5 a month per ACL, $1 per rule, $0.60 per million requests)."
  type        = bool
  default     = false
}

variable "waf_rate_limit" {
  description = "Requests one client IP may send per waf_rate_window_seconds before WAF blocks it."
  type        = number
  default     = 6000

  validation {
    condition     = var.waf_rate_limit >= 10 && var.waf_rate_limit <= 2000000000
    error_message = "waf_rate_limit must be between 10 and 2,000,000,000."
  }
}

variable "waf_rate_window_seconds" {
  description = "Window of the per-IP rate limit: 60, 120, 300 or 600 seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 120, 300, 600], var.waf_rate_window_seconds)
    error_message = "waf_rate_window_seconds must be 60, 120, 300 or 600."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the load balancer against deletion (turn off before `terraform destroy`)."
  type        = bool
  default     = false
}

variable "certificate_arn" {
  description = "ACM certificate ARN. When set, the load balancer serves HTTPS on 443 and redirects HTTP on 80 to it; when null, it serves plain HTTP on 80."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

# --------------------------------------------------------------- container ---

variable "image" {
  description = "Container image, `<ecr repository url>:<git sha>`."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository the image comes from; the execution role may pull from it only. Null when the image is public."
  type        = string
  default     = null
}

variable "container_name" {
  description = "Name of the container in the task definition (CI deploys look it up by this name)."
  type        = string
  default     = "app"
}

variable "container_port" {
  description = "Port the service listens on (the container's PORT)."
  type        = number
  default     = 8080
}

variable "cpu" {
  description = "Task CPU units (1024 = 1 vCPU). Must form a valid Fargate pair with memory."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "memory" {
  description = "Task memory in MiB (Fargate: 512-2048 for 256 CPU ... 32768-122880 for 16384 CPU)."
  type        = number
  default     = 2048
}

variable "readonly_root_filesystem" {
  description = "Run the container with a read-only root filesystem; a scratch volume is mounted at /tmp (the only writable path, e.g. for the model cache)."
  type        = bool
  default     = true
}

variable "health_check_command" {
  description = "Container health check command. The image has no curl, so the default runs the image's tiny Java probe against the liveness endpoint."
  type        = list(string)
  default     = ["CMD", "java", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx24m", "-cp", "/app/classpath/app.jar", "dev.mlserve.HealthCheck", "http://127.0.0.1:8080/v2/health/live"]

  validation {
    condition     = length(var.health_check_command) >= 2 && contains(["CMD", "CMD-SHELL"], var.health_check_command[0])
    error_message = "health_check_command must start with CMD or CMD-SHELL followed by the command."
  }
}

variable "health_check_start_period" {
  description = "Seconds the container health check ignores failures after start (JVM start, model download and warm-up). The image with its AOT cache is ready in a few seconds (docs/BENCHMARKS.md); raise it for large models from S3."
  type        = number
  default     = 30

  validation {
    condition     = var.health_check_start_period >= 0 && var.health_check_start_period <= 300
    error_message = "health_check_start_period must be 0-300 seconds."
  }
}

# ------------------------------------------------- service settings (env) ---

variable "model_base_path" {
  description = "MODEL_BASE_PATH: where models live, `s3://<bucket>/<models prefix>` (models under <prefix>/<name>/<version>/)."
  type        = string
}

variable "model_poll_seconds" {
  description = "MODEL_POLL_SECONDS: how often the service looks for new model versions (0 = load once)."
  type        = number
  default     = 60
}

variable "capture_s3_uri" {
  description = "CAPTURE_S3_URI: where sampled requests/responses are written, `s3://<bucket>/<capture prefix>`. Empty string turns capture off."
  type        = string
  default     = ""
}

variable "capture_sample_percent" {
  description = "CAPTURE_SAMPLE_PERCENT: percentage of requests captured (0-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.capture_sample_percent >= 0 && var.capture_sample_percent <= 100
    error_message = "capture_sample_percent must be 0-100."
  }
}

variable "low_confidence_band" {
  description = "LOW_CONFIDENCE_BAND: \"low,high\" scores counted as low-confidence predictions."
  type        = string
  default     = "0.4,0.6"

  validation {
    condition     = can(regex("^(0(\\.[0-9]+)?|1(\\.0+)?),(0(\\.[0-9]+)?|1(\\.0+)?)$", var.low_confidence_band))
    error_message = "low_confidence_band must look like \"0.4,0.6\"."
  }
}

variable "log_format" {
  description = "LOG_FORMAT: json (for CloudWatch metric filters) or text."
  type        = string
  default     = "json"

  validation {
    condition     = contains(["json", "text"], var.log_format)
    error_message = "log_format must be json or text."
  }
}

variable "shutdown_timeout_seconds" {
  description = "SHUTDOWN_TIMEOUT_SECONDS: drain time after SIGTERM. Also the target group's deregistration delay; the container's stopTimeout is 15 s more (at most 120), room for the final data-capture flush."
  type        = number
  default     = 20

  validation {
    condition     = var.shutdown_timeout_seconds >= 0 && var.shutdown_timeout_seconds <= 105
    error_message = "shutdown_timeout_seconds must be 0-105 (stopTimeout = it + 15 must stay <= 120)."
  }
}

variable "extra_environment" {
  description = "More plain environment variables for the container. Never secrets (use `secrets`). The service's own settings above win on a name clash."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : !can(regex("(?i)(secret|password|passwd|token|api_?key|private_?key|credential|access_?key)", k))])
    error_message = "extra_environment must not carry secrets; pass them through `secrets` (Secrets Manager or SSM ARNs)."
  }
}

variable "secrets" {
  description = "Secret environment variables: name => ARN of a Secrets Manager secret or SSM SecureString parameter. Injected with valueFrom; the execution role may read exactly these."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for v in values(var.secrets) : can(regex("^arn:aws[a-z-]*:(secretsmanager|ssm):", v))])
    error_message = "secrets values must be Secrets Manager or SSM parameter ARNs."
  }
}

variable "api_tokens_secret_arn" {
  description = "Secrets Manager secret holding the API's bearer tokens (comma- or newline-separated). Set: ECS injects it as API_TOKENS (valueFrom), the service re-reads it every api_tokens_refresh_seconds for rotation, the execution and task roles may read exactly this secret. Null: the API is open."
  type        = string
  default     = null

  validation {
    condition     = var.api_tokens_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.api_tokens_secret_arn))
    error_message = "api_tokens_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "api_tokens_refresh_seconds" {
  description = "How often the service re-reads the API token secret (a rotation is in force after at most this long)."
  type        = number
  default     = 300

  validation {
    condition     = var.api_tokens_refresh_seconds >= 1 && var.api_tokens_refresh_seconds <= 86400
    error_message = "api_tokens_refresh_seconds must be 1-86400."
  }
}

variable "secrets_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt the secrets (the execution role may decrypt with them)."
  type        = list(string)
  default     = []
}

# ----------------------------------------------------- model bucket access ---

variable "model_bucket_arn" {
  description = "ARN of the model store bucket."
  type        = string
}

variable "models_prefix" {
  description = "Key prefix of the models in the bucket (read-only for the task)."
  type        = string
  default     = "models"
}

variable "capture_prefix" {
  description = "Key prefix of captured data in the bucket (write-only for the task)."
  type        = string
  default     = "capture"
}

variable "model_bucket_kms_key_arn" {
  description = "KMS key of the bucket when it uses SSE-KMS (null for SSE-S3)."
  type        = string
  default     = null
}

# ---------------------------------------------------------------- service ---

variable "desired_count" {
  description = "Tasks at creation. Afterwards autoscaling owns the count (Terraform ignores changes to it)."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Autoscaling floor (2 keeps one task per AZ)."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Autoscaling ceiling."
  type        = number
  default     = 4

  validation {
    condition     = var.max_capacity >= 1
    error_message = "max_capacity must be at least 1."
  }
}

variable "cpu_target_percent" {
  description = "Target average CPU utilisation for scaling."
  type        = number
  default     = 60
}

variable "requests_per_target" {
  description = "Target ALB requests per task per minute for scaling (tune with the benchmarks)."
  type        = number
  default     = 6000
}

variable "scale_in_cooldown" {
  description = "Seconds between scale-in steps."
  type        = number
  default     = 300
}

variable "scale_out_cooldown" {
  description = "Seconds between scale-out steps."
  type        = number
  default     = 60
}

variable "health_check_grace_period_seconds" {
  description = "Seconds ECS ignores load balancer health checks after a task starts (model download and warm-up). The image with its AOT cache is ready in a few seconds (docs/BENCHMARKS.md); raise it for large models from S3."
  type        = number
  default     = 45
}

variable "ci_deploys" {
  description = "CI registers new task definition revisions and updates the service; Terraform then ignores the service's task_definition. Changing this after the first apply needs a `terraform state mv` between aws_ecs_service.this[0] and aws_ecs_service.ci_deployed[0]."
  type        = bool
  default     = true
}

variable "wait_for_steady_state" {
  description = "Make `terraform apply` wait until the service is stable."
  type        = bool
  default     = false
}

variable "enable_execute_command" {
  description = "Allow ECS Exec into running tasks (adds the ssmmessages permissions to the task role)."
  type        = bool
  default     = false
}

variable "container_insights" {
  description = "Turn on CloudWatch Container Insights for the cluster (extra per-task metrics; billed as custom metrics)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the service's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key to encrypt the log group (its policy must allow CloudWatch Logs). Null uses CloudWatch's own encryption."
  type        = string
  default     = null
}

# ---------------------------------------------------------- load balancer ---

variable "readiness_path" {
  description = "Target group health check path: the service's readiness endpoint (200 only when models are loaded and warm, 503 while draining)."
  type        = string
  default     = "/v2/health/ready"
}

variable "health_check_interval" {
  description = "Seconds between load balancer health checks. With healthy_threshold 2, a ready task takes traffic 5-10 s after it turns ready (30 s at the old 15 s interval)."
  type        = number
  default     = 5

  validation {
    condition     = var.health_check_interval >= 5 && var.health_check_interval <= 300
    error_message = "health_check_interval must be 5-300 seconds (the ALB's range)."
  }
}

variable "slow_start_seconds" {
  description = "Target group slow start: a new task's share of requests ramps up linearly over this many seconds (30-900), or 0 for full share at once. A new task is ready in ~3 s but it serves at ~0.3 of its settled rate in its first 10 s under load and settles after 30-40 s while the JIT compiles (docs/BENCHMARKS.md, cold start), so the default ramps its share over 30 s (with or without the AOT cache: the cache shortens start, not the JIT ramp)."
  type        = number
  default     = 30

  validation {
    condition     = var.slow_start_seconds == 0 || (var.slow_start_seconds >= 30 && var.slow_start_seconds <= 900)
    error_message = "slow_start_seconds must be 0 or 30-900 (the ALB's range)."
  }
}

variable "healthy_threshold" {
  description = "Consecutive passes before a target takes traffic."
  type        = number
  default     = 2
}

variable "unhealthy_threshold" {
  description = "Consecutive failures before a target is taken out."
  type        = number
  default     = 3
}
