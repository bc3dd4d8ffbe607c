variable "name" {
  type        = string
  description = "Name prefix of the workspace, rule namespace and Grafana resources (e.g. mlserve-dev)."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
  default     = {}
}

variable "alarm_sns_topic_arn" {
  type        = string
  description = "SNS topic the workspace's alertmanager notifies (the monitoring module's alarm topic)."
}

variable "alert_manager" {
  type        = bool
  description = "Create the workspace's alertmanager definition (routes every alert to alarm_sns_topic_arn). Off only where the API cannot be reached (the moto end-to-end test: moto has no alertmanager API)."
  default     = true
}

variable "manage_sns_topic_policy" {
  type        = bool
  description = "Attach a topic policy to alarm_sns_topic_arn that keeps the account's default access and lets Amazon Managed Service for Prometheus (aps.amazonaws.com) publish from this account. Turn off when the topic's policy is managed elsewhere (then add the aps statement there)."
  default     = true
}

variable "scrape_port" {
  type        = number
  description = "Container port of the service's /metrics, scraped on localhost by the ADOT sidecar."
  default     = 8080
}

variable "scrape_interval" {
  type        = string
  description = "How often the sidecar scrapes /metrics (Prometheus duration)."
  default     = "30s"

  validation {
    condition     = can(regex("^[0-9]+[smh]$", var.scrape_interval))
    error_message = "scrape_interval must be a Prometheus duration such as 15s or 1m."
  }
}

variable "workspace_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the workspace's data (null: AWS owned key)."
  default     = null
}

variable "grafana" {
  type = object({
    enabled                  = bool
    authentication_providers = optional(list(string), ["AWS_SSO"])
  })
  description = "Amazon Managed Grafana workspace reading this Prometheus workspace. Off by default: it needs IAM Identity Center (AWS_SSO) or a SAML identity provider set up in the account; docs/MONITORING.md shows how to import the dashboard."
  default     = { enabled = false }

  validation {
    condition     = alltrue([for p in var.grafana.authentication_providers : contains(["AWS_SSO", "SAML"], p)])
    error_message = "grafana.authentication_providers may hold AWS_SSO and/or SAML."
  }
}
