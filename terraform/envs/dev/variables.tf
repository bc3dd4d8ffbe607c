# ----------------------------------------------------- you must set these ---

variable "github_repository" {
  description = "GitHub repository (\"owner/name\") whose main-branch workflows may deploy, and that CodeBuild builds."
  type        = string
}

variable "image_tag" {
  description = "Image tag (the git commit SHA) Terraform deploys. With ci_deploys = true it only seeds the first task definition; CI deploys later ones."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{7,40}$", var.image_tag))
    error_message = "image_tag must be a git commit SHA (7-40 lowercase hex characters): images are tagged by commit only."
  }
}

# --------------------------------------------------------------- general ---

variable "aws_region" {
  description = "AWS region of the stack."
  type        = string
  default     = "eu-west-1"
}

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "ml-serve-ecs"
}

variable "environment" {
  description = "Environment name, the second part of every resource name."
  type        = string
  default     = "dev"
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the model bucket and the image repository with their contents. Convenient for a dev stack; keep false for anything you care about."
  type        = bool
  default     = false
}

# --------------------------------------------------------------- network ---

variable "vpc_cidr" {
  description = "CIDR of the VPC created for the service (ignored with vpc_id)."
  type        = string
  default     = "10.20.0.0/16"
}

variable "vpc_id" {
  description = "Existing VPC to use instead of creating one (then set subnet_ids)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Existing subnets in at least 2 AZs (with vpc_id). Private subnets need a NAT gateway or VPC endpoints and assign_public_ip = false."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Give tasks public IPs when they run in public subnets (private_networking off). Ignored with private networking: tasks there never get one."
  type        = bool
  default     = true
}

variable "private_networking" {
  description = "Tasks in private subnets without public IPs, reaching AWS through VPC endpoints; their egress is limited to the endpoints. Off in dev by default for cost: the 4-5 interface endpoints in 2 AZs cost ~$58-73 a month. Turn it on for any environment that serves real traffic."
  type        = bool
  default     = false
}

variable "private_subnet_ids" {
  description = "With vpc_id: existing private subnets for the tasks (they need endpoints or a NAT to reach ECR, S3, CloudWatch Logs, STS)."
  type        = list(string)
  default     = []
}

variable "nat_gateway" {
  description = "With private_networking: add one NAT gateway (~$33 a month) for traffic the endpoints do not serve. Task egress is then open to 0.0.0.0/0 on 443."
  type        = bool
  default     = false
}

variable "flow_logs_enabled" {
  description = "VPC flow logs to CloudWatch Logs (retention: log_retention_days)."
  type        = bool
  default     = true
}

variable "alb_internal" {
  description = "Make the load balancer internal (reachable only from inside the VPC or peered networks)."
  type        = bool
  default     = false
}

variable "alb_access_logs" {
  description = "Load balancer access logs to a bucket of their own."
  type        = bool
  default     = true
}

variable "waf_enabled" {
  description = "WAFv2 in front of the load balancer: per-IP rate limit plus AWS managed common and known-bad-inputs rules (~$8 a month plus $0.60 per million requests)."
  type        = bool
  default     = false
}

variable "waf_rate_limit" {
  description = "Requests per client IP per 5 minutes before WAF blocks it."
  type        = number
  default     = 6000
}

variable "api_tokens_secret_arn" {
  description = "Secrets Manager secret holding the API's bearer tokens (comma- or newline-separated). Set: the prediction and metadata endpoints need `Authorization: Bearer <token>`; the service re-reads the secret every api_tokens_refresh_seconds, so a rotation needs no restart. Create it outside Terraform so the token never lands in state (docs: terraform/README.md). Null: the API is open."
  type        = string
  default     = null
}

variable "api_tokens_refresh_seconds" {
  description = "How often the service re-reads the token secret."
  type        = number
  default     = 300
}

variable "alb_ingress_cidrs" {
  description = "CIDR blocks allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS on the load balancer (null: plain HTTP on port 80)."
  type        = string
  default     = null
}

# --------------------------------------------------------------- service ---

variable "ci_deploys" {
  description = "CI (GitHub Actions) deploys new task definition revisions; Terraform ignores the service's task definition."
  type        = bool
  default     = true
}

variable "cpu" {
  description = "Task CPU units (1024 = 1 vCPU)."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Task memory (MiB)."
  type        = number
  default     = 2048
}

variable "desired_count" {
  description = "Tasks at creation (autoscaling owns the count afterwards)."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Autoscaling minimum number of tasks."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Autoscaling maximum number of tasks."
  type        = number
  default     = 4
}

variable "model_poll_seconds" {
  description = "MODEL_POLL_SECONDS of the service."
  type        = number
  default     = 60
}

variable "capture_sample_percent" {
  description = "CAPTURE_SAMPLE_PERCENT of the service."
  type        = number
  default     = 10
}

variable "low_confidence_band" {
  description = "LOW_CONFIDENCE_BAND of the service (\"low,high\")."
  type        = string
  default     = "0.4,0.6"
}

variable "shutdown_timeout_seconds" {
  description = "SHUTDOWN_TIMEOUT_SECONDS of the service; also the target group's deregistration delay."
  type        = number
  default     = 20
}

variable "secrets" {
  description = "Secret environment variables for the container: name => Secrets Manager or SSM parameter ARN."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Days to keep service and build logs."
  type        = number
  default     = 30
}

variable "capture_expiration_days" {
  description = "Days to keep captured prediction data."
  type        = number
  default     = 90
}

variable "container_insights" {
  description = "Enable Container Insights on the cluster (extra cost)."
  type        = bool
  default     = false
}

# ------------------------------------------------------------ monitoring ---

variable "alarm_emails" {
  description = "Email addresses that receive alarms."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------- GitHub ---

variable "github_branch" {
  description = "Branch allowed to deploy."
  type        = string
  default     = "main"
}

variable "github_environment" {
  description = "GitHub environment of deploy.yml's deploy job; only jobs in it may assume the deploy role (null: the branch github_branch instead)."
  type        = string
  default     = "production"
}

variable "github_repository_immutable" {
  description = "Immutable form of the repository in the OIDC `sub` claim (\"owner-<id>/name-<id>\"), if the repository uses immutable subject claims."
  type        = string
  default     = null
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false if the account already has one; then set github_oidc_provider_arn)."
  type        = bool
  default     = true
}

variable "github_oidc_provider_arn" {
  description = "Existing GitHub OIDC provider ARN (with create_github_oidc_provider = false)."
  type        = string
  default     = null
}

variable "amp_alert_manager" {
  description = "Create the Prometheus workspace's alertmanager definition (alerts -> the alarm topic)."
  type        = bool
  default     = true
}

variable "grafana_enabled" {
  description = "Create an Amazon Managed Grafana workspace (needs IAM Identity Center or SAML in the account)."
  type        = bool
  default     = false
}

variable "drift_models" {
  description = "Models that get an hourly drift report."
  type        = list(string)
  default     = ["imdb-sentiment"]
}

# ---------------------------------------------------------- CodePipeline ---

variable "enable_codepipeline" {
  description = "Create the CodePipeline delivery path (GitHub connection -> CodeBuild buildspec.yml -> ECS deploy)."
  type        = bool
  default     = false
}

variable "codeconnections_connection_arn" {
  description = "Existing CodeConnections connection to GitHub for the pipeline (null: create one, then approve it once in the console)."
  type        = string
  default     = null
}

# ---------------------------------------------------------- batch scoring ---

variable "enable_batch" {
  description = "Create the batch scoring state machine, task definition, topic and trigger (docs/BATCH.md). Idle cost is nil: Fargate and Step Functions bill per job."
  type        = bool
  default     = true
}

variable "batch_max_concurrency" {
  description = "Most batch scoring tasks running at once per job."
  type        = number
  default     = 4
}

variable "batch_notification_emails" {
  description = "Email addresses that receive batch job summaries (each must confirm)."
  type        = list(string)
  default     = []
}
