# Amazon Managed Service for Prometheus for the service's /metrics: the
# workspace the ADOT sidecar remote-writes to, the alert rules (the same file
# the real-Prometheus test and scripts/observe.sh load), an alertmanager routing
# alerts to the alarm topic, and optionally Amazon Managed Grafana.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  rules_file     = "${path.module}/rules/mlserve.rules.yml"
  dashboard_file = "${path.module}/dashboards/mlserve.json"

  remote_write_url = "${aws_prometheus_workspace.this.prometheus_endpoint}api/v1/remote_write"

  adot_config = templatefile("${path.module}/adot/collector.yaml", {
    port             = var.scrape_port
    scrape_interval  = var.scrape_interval
    region           = local.region
    remote_write_url = local.remote_write_url
  })

  # Every alert to the alarm topic; resolved alerts too, so the topic hears when it is over.
  alertmanager_config = yamlencode({
    alertmanager_config = yamlencode({
      route = {
        receiver        = "sns"
        group_by        = ["alertname", "model"]
        group_wait      = "30s"
        group_interval  = "5m"
        repeat_interval = "4h"
      }
      receivers = [{
        name = "sns"
        sns_configs = [{
          topic_arn     = var.alarm_sns_topic_arn
          send_resolved = true
          sigv4         = { region = local.region }
          subject       = "ml-serve-ecs alert"
          attributes    = { source = "amp", workspace = var.name }
        }]
      }]
    })
  })
}

resource "aws_prometheus_workspace" "this" {
  alias       = var.name
  kms_key_arn = var.workspace_kms_key_arn

  tags = var.tags
}

resource "aws_prometheus_rule_group_namespace" "this" {
  name         = "${var.name}-mlserve"
  workspace_id = aws_prometheus_workspace.this.id
  data         = file(local.rules_file)
}

resource "aws_prometheus_alert_manager_definition" "this" {
  count = var.alert_manager ? 1 : 0

  workspace_id = aws_prometheus_workspace.this.id
  definition   = local.alertmanager_config
}

# AMP publishes as the aps.amazonaws.com service principal. A topic policy
# replaces the default one, so this keeps the default's account-wide access
# (CloudWatch alarms of this account keep working) and adds AMP's.
resource "aws_sns_topic_policy" "alarms" {
  count = var.manage_sns_topic_policy ? 1 : 0

  arn = var.alarm_sns_topic_arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountDefault"
        Effect    = "Allow"
        Principal = { AWS = "*" }
        Action = [
          "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
          "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
        ]
        Resource  = var.alarm_sns_topic_arn
        Condition = { StringEquals = { "AWS:SourceOwner" = local.account_id } }
      },
      {
        Sid       = "ManagedPrometheusAlerts"
        Effect    = "Allow"
        Principal = { Service = "aps.amazonaws.com" }
        Action    = ["sns:Publish", "sns:GetTopicAttributes"]
        Resource  = var.alarm_sns_topic_arn
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnEquals    = { "aws:SourceArn" = aws_prometheus_workspace.this.arn }
        }
      },
    ]
  })
}
