# The env's monitoring wiring: the sidecar writes to the env's own Prometheus
# workspace, its alerts and the drift reports reach the alarm topic.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  github_repository = "example-org/ml-serve-ecs"
  image_tag         = "0123456789abcdef0123456789abcdef01234567"
}

run "metrics_alerts_and_drift_are_wired" {
  command = apply

  assert {
    condition = (
      module.service.metrics_sidecar_config == module.prometheus.adot_config &&
      strcontains(module.prometheus.adot_config, "${module.prometheus.prometheus_endpoint}api/v1/remote_write")
    )
    error_message = "The service's sidecar runs the config rendered for this env's workspace."
  }

  assert {
    condition = (
      yamldecode(yamldecode(module.prometheus.alertmanager_definition).alertmanager_config).receivers[0].sns_configs[0].topic_arn == output.alarm_topic_arn &&
      module.drift_report.sns_topic_arn == output.alarm_topic_arn
    )
    error_message = "Prometheus alerts and drift violations go to the same alarm topic as the CloudWatch alarms."
  }

  assert {
    condition     = output.drift_report_uri == "s3://${output.model_bucket_name}/drift-reports"
    error_message = "Drift reports land in the env's model bucket."
  }
}
