# Alarms to an SNS topic, log metric filters for the model's own signal
# (low-confidence predictions), and a dashboard with the lot.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name

  alb_dimensions = { LoadBalancer = var.alb_arn_suffix }
  tg_dimensions  = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }

  alarm_common = {
    period              = var.period_seconds
    evaluation_periods  = var.evaluation_periods
    datapoints_to_alarm = var.datapoints_to_alarm
    alarm_actions       = [aws_sns_topic.alarms.arn]
    ok_actions          = [aws_sns_topic.alarms.arn]
  }
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.sns_kms_key_id

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# ------------------------------------------------------ metrics from logs ---
# The service logs one JSON line per prediction request:
#   {"event":"predict","model":..,"rows":3,"low_confidence_rows":1,"status":200,"latency_ms":4.2,...}

resource "aws_cloudwatch_log_metric_filter" "predicted_rows" {
  name           = "${var.name}-predicted-rows"
  log_group_name = var.log_group_name
  pattern        = "{ $.event = \"predict\" }"

  metric_transformation {
    name      = "PredictedRows"
    namespace = var.metrics_namespace
    value     = "$.rows"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_log_metric_filter" "low_confidence_rows" {
  name           = "${var.name}-low-confidence-rows"
  log_group_name = var.log_group_name
  pattern        = "{ $.event = \"predict\" }"

  metric_transformation {
    name      = "LowConfidenceRows"
    namespace = var.metrics_namespace
    value     = "$.low_confidence_rows"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_log_metric_filter" "predict_requests" {
  name           = "${var.name}-predict-requests"
  log_group_name = var.log_group_name
  pattern        = "{ $.event = \"predict\" }"

  metric_transformation {
    name      = "PredictRequests"
    namespace = var.metrics_namespace
    value     = "1"
    unit      = "Count"
  }
}

# ---------------------------------------------------------------- alarms ---

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = "${var.name}-5xx-rate"
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of requests answered 5xx (targets or load balancer)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  evaluation_periods  = local.alarm_common.evaluation_periods
  datapoints_to_alarm = local.alarm_common.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
    label       = "5xx rate (%)"
    return_data = true
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.alb_dimensions
      period      = local.alarm_common.period
      stat        = "Sum"
    }
  }

  metric_query {
    id = "target5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.alb_dimensions
      period      = local.alarm_common.period
      stat        = "Sum"
    }
  }

  metric_query {
    id = "elb5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = local.alb_dimensions
      period      = local.alarm_common.period
      stat        = "Sum"
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  alarm_name          = "${var.name}-latency-p99"
  alarm_description   = "p99 target response time above ${var.latency_p99_threshold_seconds} s."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.tg_dimensions
  extended_statistic  = "p99"
  period              = local.alarm_common.period
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.latency_p99_threshold_seconds
  evaluation_periods  = local.alarm_common.evaluation_periods
  datapoints_to_alarm = local.alarm_common.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${var.name}-unhealthy-hosts"
  alarm_description   = "At least one target fails the readiness check."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.tg_dimensions
  statistic           = "Maximum"
  period              = local.alarm_common.period
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = local.alarm_common.evaluation_periods
  datapoints_to_alarm = local.alarm_common.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "healthy_hosts" {
  alarm_name          = "${var.name}-healthy-hosts-low"
  alarm_description   = "Fewer than ${var.min_healthy_hosts} healthy targets: the service is down or nearly so."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = local.tg_dimensions
  statistic           = "Minimum"
  period              = local.alarm_common.period
  comparison_operator = "LessThanThreshold"
  threshold           = var.min_healthy_hosts
  evaluation_periods  = local.alarm_common.evaluation_periods
  datapoints_to_alarm = local.alarm_common.datapoints_to_alarm
  # No data means no healthy target is reporting: treat it as a breach.
  treat_missing_data = "breaching"
  alarm_actions      = local.alarm_common.alarm_actions
  ok_actions         = local.alarm_common.ok_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "low_confidence_rate" {
  alarm_name          = "${var.name}-low-confidence-rate"
  alarm_description   = "More than ${var.low_confidence_threshold_percent}% of predicted rows scored inside the low-confidence band (periods with under ${var.low_confidence_min_rows} rows ignored)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.low_confidence_threshold_percent
  evaluation_periods  = local.alarm_common.evaluation_periods
  datapoints_to_alarm = local.alarm_common.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions

  metric_query {
    id          = "rate"
    expression  = "IF(rows >= ${var.low_confidence_min_rows}, 100 * FILL(low, 0) / rows, 0)"
    label       = "Low-confidence rows (%)"
    return_data = true
  }

  metric_query {
    id = "rows"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "PredictedRows"
      period      = local.alarm_common.period
      stat        = "Sum"
    }
  }

  metric_query {
    id = "low"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "LowConfidenceRows"
      period      = local.alarm_common.period
      stat        = "Sum"
    }
  }

  tags = var.tags
}
