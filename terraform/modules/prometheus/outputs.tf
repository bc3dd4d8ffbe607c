output "workspace_id" {
  description = "ID of the Amazon Managed Service for Prometheus workspace."
  value       = aws_prometheus_workspace.this.id
}

output "workspace_arn" {
  description = "ARN of the workspace: the resource of the sidecar's aps:RemoteWrite permission."
  value       = aws_prometheus_workspace.this.arn
}

output "prometheus_endpoint" {
  description = "Query endpoint of the workspace (Grafana's data source URL; ends in /)."
  value       = aws_prometheus_workspace.this.prometheus_endpoint
}

output "remote_write_url" {
  description = "Remote-write URL the ADOT sidecar sends to."
  value       = local.remote_write_url
}

output "adot_config" {
  description = "The ADOT collector configuration for the service's sidecar (AOT_CONFIG_CONTENT), rendered for this workspace."
  value       = local.adot_config
}

output "rule_group_namespace" {
  description = "Name of the rule group namespace holding rules/mlserve.rules.yml."
  value       = aws_prometheus_rule_group_namespace.this.name
}

output "dashboard_json" {
  description = "The Grafana dashboard (dashboards/mlserve.json) to import into any Grafana with this workspace as its Prometheus data source."
  value       = file(local.dashboard_file)
}

output "grafana_endpoint" {
  description = "URL of the Amazon Managed Grafana workspace, or null when it is off."
  value       = local.grafana ? aws_grafana_workspace.this[0].endpoint : null
}

output "alertmanager_definition" {
  description = "The workspace's alertmanager definition (null when alert_manager is off)."
  value       = var.alert_manager ? aws_prometheus_alert_manager_definition.this[0].definition : null
}
