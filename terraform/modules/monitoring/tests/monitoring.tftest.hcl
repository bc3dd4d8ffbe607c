mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                    = "mlserve-test"
  alarm_emails            = ["oncall@example.com"]
  alb_arn_suffix          = "app/mlserve/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/mlserve-app/0123456789abcdef"
  cluster_name            = "mlserve"
  service_name            = "mlserve"
  log_group_name          = "/ecs/mlserve"
}

run "alarms_notify_the_topic" {
  command = apply

  assert {
    condition = alltrue([
      for a in [
        aws_cloudwatch_metric_alarm.error_rate, aws_cloudwatch_metric_alarm.latency_p99,
        aws_cloudwatch_metric_alarm.unhealthy_hosts, aws_cloudwatch_metric_alarm.healthy_hosts,
        aws_cloudwatch_metric_alarm.low_confidence_rate,
      ] : a.alarm_actions == toset([aws_sns_topic.alarms.arn]) && a.ok_actions == toset([aws_sns_topic.alarms.arn])
    ])
    error_message = "Every alarm must notify the topic on alarm and on recovery."
  }

  assert {
    condition     = aws_sns_topic_subscription.email["oncall@example.com"].protocol == "email"
    error_message = "Each alarm email must be subscribed."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.latency_p99.extended_statistic == "p99" && aws_cloudwatch_metric_alarm.latency_p99.dimensions.TargetGroup == var.target_group_arn_suffix
    error_message = "Latency must alarm on the target group's p99."
  }

  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.predicted_rows.pattern == "{ $.event = \"predict\" }" &&
      one(aws_cloudwatch_log_metric_filter.predicted_rows.metric_transformation).value == "$.rows" &&
      one(aws_cloudwatch_log_metric_filter.low_confidence_rows.metric_transformation).value == "$.low_confidence_rows"
    )
    error_message = "Metric filters must read rows and low_confidence_rows from predict log lines."
  }

  assert {
    condition = anytrue([
      for q in aws_cloudwatch_metric_alarm.low_confidence_rate.metric_query :
      q.return_data == true && strcontains(coalesce(q.expression, "-"), "low") && strcontains(coalesce(q.expression, "-"), "rows")
    ])
    error_message = "The low-confidence alarm must be the ratio of the two log metrics."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 6
    error_message = "The dashboard must have its six widgets."
  }
}
