output "sns_topic_arn" {
  description = "ARN of the alarm topic (subscribe more endpoints to it)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the alarms, by purpose."
  value = {
    error_rate          = aws_cloudwatch_metric_alarm.error_rate.alarm_name
    latency_p99         = aws_cloudwatch_metric_alarm.latency_p99.alarm_name
    unhealthy_hosts     = aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name
    healthy_hosts_low   = aws_cloudwatch_metric_alarm.healthy_hosts.alarm_name
    low_confidence_rate = aws_cloudwatch_metric_alarm.low_confidence_rate.alarm_name
  }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards:name=${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "metrics_namespace" {
  description = "Namespace of the metrics made from the service's logs."
  value       = var.metrics_namespace
}
