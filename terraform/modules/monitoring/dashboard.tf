# One dashboard: traffic and errors, latency, target health, task resources,
# and the model's own signal from the logs.

locals {
  alb = var.alb_arn_suffix
  tg  = var.target_group_arn_suffix

  widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title  = "Requests and 5xx"
        region = local.region
        stat   = "Sum"
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", local.alb, { label = "requests" }],
          ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", local.alb, { label = "target 5xx" }],
          ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", local.alb, { label = "load balancer 5xx" }],
          ["AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "LoadBalancer", local.alb, { label = "target 4xx" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "Target response time (s)"
        region = local.region
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.alb, "TargetGroup", local.tg, { stat = "p50", label = "p50" }],
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.alb, "TargetGroup", local.tg, { stat = "p99", label = "p99" }],
        ]
        annotations = { horizontal = [{ label = "p99 alarm", value = var.latency_p99_threshold_seconds }] }
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 8, height = 6
      properties = {
        title  = "Targets"
        region = local.region
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", local.alb, "TargetGroup", local.tg, { stat = "Minimum", label = "healthy" }],
          ["AWS/ApplicationELB", "UnHealthyHostCount", "LoadBalancer", local.alb, "TargetGroup", local.tg, { stat = "Maximum", label = "unhealthy" }],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 6, width = 8, height = 6
      properties = {
        title  = "Service CPU and memory (%)"
        region = local.region
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name, { stat = "Average", label = "CPU" }],
          ["AWS/ECS", "MemoryUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name, { stat = "Average", label = "memory" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 6, width = 8, height = 6
      properties = {
        title  = "Low-confidence rows (%)"
        region = local.region
        period = 300
        view   = "timeSeries"
        metrics = [
          [{ expression = "IF(rows > 0, 100 * FILL(low, 0) / rows, 0)", label = "low-confidence %", id = "rate" }],
          [var.metrics_namespace, "PredictedRows", { stat = "Sum", id = "rows", visible = false }],
          [var.metrics_namespace, "LowConfidenceRows", { stat = "Sum", id = "low", visible = false }],
        ]
        annotations = { horizontal = [{ label = "alarm", value = var.low_confidence_threshold_percent }] }
      }
    },
    {
      type = "alarm", x = 0, y = 12, width = 24, height = 3
      properties = {
        title = "Alarms"
        alarms = [
          aws_cloudwatch_metric_alarm.error_rate.arn,
          aws_cloudwatch_metric_alarm.latency_p99.arn,
          aws_cloudwatch_metric_alarm.unhealthy_hosts.arn,
          aws_cloudwatch_metric_alarm.healthy_hosts.arn,
          aws_cloudwatch_metric_alarm.low_confidence_rate.arn,
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
