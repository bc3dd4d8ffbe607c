variable "name" {
  description = "Name prefix of the topic, alarms and dashboard (e.g. \"ml-serve-ecs-dev\")."
  type        = string
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription mail)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must contain email addresses."
  }
}

variable "sns_kms_key_id" {
  description = "Customer managed KMS key for the topic (its policy must let CloudWatch use it; the AWS managed alias/aws/sns key does not work with alarms). Null leaves the topic unencrypted at rest."
  type        = string
  default     = null
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (CloudWatch dimension LoadBalancer)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the target group (CloudWatch dimension TargetGroup)."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster name (dashboard CPU/memory widgets)."
  type        = string
}

variable "service_name" {
  description = "ECS service name (dashboard CPU/memory widgets)."
  type        = string
}

variable "log_group_name" {
  description = "Log group with the service's JSON lines; the prediction metric filters read it."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics made from the logs (PredictedRows, LowConfidenceRows, PredictRequests)."
  type        = string
  default     = "MlServeEcs"
}

variable "period_seconds" {
  description = "Period of every alarm's metric, in seconds."
  type        = number
  default     = 60
}

variable "evaluation_periods" {
  description = "Periods an alarm looks at; it fires when datapoints_to_alarm of them breach."
  type        = number
  default     = 5
}

variable "datapoints_to_alarm" {
  description = "Breaching periods (out of evaluation_periods) that fire an alarm."
  type        = number
  default     = 3
}

variable "error_rate_threshold_percent" {
  description = "Alarm when 5xx responses (from targets and the load balancer) exceed this percentage of requests."
  type        = number
  default     = 5
}

variable "latency_p99_threshold_seconds" {
  description = "Alarm when the p99 target response time exceeds this many seconds."
  type        = number
  default     = 1
}

variable "min_healthy_hosts" {
  description = "Alarm when fewer healthy targets than this remain."
  type        = number
  default     = 1
}

variable "low_confidence_threshold_percent" {
  description = "Alarm when more than this percentage of predicted rows fall in the low-confidence band (a sign of drift or a bad model)."
  type        = number
  default     = 30
}

variable "low_confidence_min_rows" {
  description = "Ignore the low-confidence rate in periods with fewer predicted rows than this (too few to mean anything)."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
