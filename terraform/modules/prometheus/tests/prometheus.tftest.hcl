# The Prometheus workspace, its rules and alertmanager, the rendered ADOT
# collector config, and optional Grafana, on a mock provider.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                = "mlserve-test"
  alarm_sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:mlserve-test-alarms"
}

run "workspace_rules_and_alerts" {
  command = apply

  assert {
    condition     = aws_prometheus_workspace.this.alias == "mlserve-test"
    error_message = "The workspace is named after the stack."
  }

  assert {
    condition     = aws_prometheus_rule_group_namespace.this.data == file("${path.module}/rules/mlserve.rules.yml")
    error_message = "The rule group namespace must hold exactly the repository's rule file (the one the real-Prometheus test checks)."
  }

  assert {
    condition     = aws_prometheus_rule_group_namespace.this.workspace_id == aws_prometheus_workspace.this.id
    error_message = "The rules belong to this workspace."
  }

  assert {
    condition = length([
      for g in yamldecode(aws_prometheus_rule_group_namespace.this.data).groups : g
      if length([for r in g.rules : r if can(r.alert) && can(r.expr) && can(r.labels.severity)]) == length(g.rules)
    ]) == length(yamldecode(aws_prometheus_rule_group_namespace.this.data).groups)
    error_message = "Every rule is an alert with an expression and a severity label."
  }

  assert {
    condition = (
      yamldecode(yamldecode(aws_prometheus_alert_manager_definition.this[0].definition).alertmanager_config).receivers[0].sns_configs[0].topic_arn
      == "arn:aws:sns:eu-west-1:123456789012:mlserve-test-alarms"
    )
    error_message = "The alertmanager must notify the alarm topic."
  }

  assert {
    condition = (
      yamldecode(yamldecode(aws_prometheus_alert_manager_definition.this[0].definition).alertmanager_config).route.receiver == "sns" &&
      yamldecode(yamldecode(aws_prometheus_alert_manager_definition.this[0].definition).alertmanager_config).receivers[0].sns_configs[0].sigv4.region == "eu-west-1"
    )
    error_message = "Every alert routes to the SNS receiver, signed in the workspace's region."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement :
      s.Principal == { Service = "aps.amazonaws.com" } && contains(s.Action, "sns:Publish") &&
      try(s.Condition.ArnEquals["aws:SourceArn"], "") == aws_prometheus_workspace.this.arn
    ])
    error_message = "The topic policy lets this workspace (and only it, by SourceArn) publish."
  }

  assert {
    condition     = length(aws_grafana_workspace.this) == 0 && length(aws_iam_role.grafana) == 0 && output.grafana_endpoint == null
    error_message = "Managed Grafana is off by default (it needs IAM Identity Center or SAML)."
  }

  assert {
    condition     = jsondecode(output.dashboard_json).uid == "mlserve-models"
    error_message = "The module hands out the repository's dashboard."
  }
}

run "adot_config_scrapes_localhost_and_writes_to_the_workspace" {
  command = apply

  variables {
    scrape_port     = 9090
    scrape_interval = "15s"
  }

  assert {
    condition     = yamldecode(output.adot_config).receivers.prometheus.config.scrape_configs[0].static_configs[0].targets == ["localhost:9090"]
    error_message = "The sidecar scrapes the service on localhost at scrape_port."
  }

  assert {
    condition = (
      yamldecode(output.adot_config).receivers.prometheus.config.scrape_configs[0].metrics_path == "/metrics" &&
      yamldecode(output.adot_config).receivers.prometheus.config.global.scrape_interval == "15s"
    )
    error_message = "The sidecar scrapes /metrics every scrape_interval."
  }

  assert {
    condition     = yamldecode(output.adot_config).exporters.prometheusremotewrite.endpoint == "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-12345678-90ab-cdef-1234-567890abcdef/api/v1/remote_write"
    error_message = "The sidecar remote-writes to this workspace's api/v1/remote_write."
  }

  assert {
    condition = (
      yamldecode(output.adot_config).exporters.prometheusremotewrite.auth.authenticator == "sigv4auth" &&
      yamldecode(output.adot_config).extensions.sigv4auth.service == "aps" &&
      yamldecode(output.adot_config).extensions.sigv4auth.region == "eu-west-1"
    )
    error_message = "Remote writes are SigV4-signed for aps in the workspace's region."
  }

  assert {
    condition = (
      yamldecode(output.adot_config).service.pipelines.metrics.receivers == ["prometheus"] &&
      yamldecode(output.adot_config).service.pipelines.metrics.exporters == ["prometheusremotewrite"] &&
      contains(yamldecode(output.adot_config).service.extensions, "sigv4auth") &&
      alltrue([for p in yamldecode(output.adot_config).service.pipelines.metrics.processors : contains(keys(yamldecode(output.adot_config).processors), p)])
    )
    error_message = "The metrics pipeline wires the receiver to the exporter through defined processors."
  }

  assert {
    condition     = yamldecode(output.adot_config).processors.resource.attributes[0] == { key = "service.instance.id", from_attribute = "aws.ecs.task.arn", action = "upsert" }
    error_message = "Each task's series carry its task ARN as instance, so tasks never collide."
  }
}

run "grafana_when_asked" {
  command = apply

  variables {
    grafana = { enabled = true }
  }

  assert {
    condition = (
      length(aws_grafana_workspace.this) == 1 &&
      aws_grafana_workspace.this[0].authentication_providers == tolist(["AWS_SSO"]) &&
      aws_grafana_workspace.this[0].data_sources == tolist(["PROMETHEUS"])
    )
    error_message = "Grafana uses IAM Identity Center and the Prometheus data source."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.grafana[0].policy).Statement :
      s.Resource == aws_prometheus_workspace.this.arn || s.Action == ["aps:ListWorkspaces"]
    ])
    error_message = "Grafana may query this workspace only."
  }
}

run "no_alertmanager_where_the_api_is_missing" {
  command = plan

  variables {
    alert_manager           = false
    manage_sns_topic_policy = false
  }

  assert {
    condition     = length(aws_prometheus_alert_manager_definition.this) == 0 && length(aws_sns_topic_policy.alarms) == 0
    error_message = "alert_manager = false leaves the definition out."
  }
}

run "rejects_a_bad_scrape_interval" {
  command = plan

  variables {
    scrape_interval = "30 seconds"
  }

  expect_failures = [var.scrape_interval]
}
