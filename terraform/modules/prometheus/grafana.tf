# Optional Amazon Managed Grafana with this workspace as its data source. Off by
# default: a Grafana workspace needs IAM Identity Center or SAML for its users.
# Import dashboards/mlserve.json into it (docs/MONITORING.md).

locals {
  grafana = var.grafana.enabled
}

resource "aws_iam_role" "grafana" {
  count = local.grafana ? 1 : 0

  name        = "${var.name}-grafana"
  description = "Amazon Managed Grafana reads the ${var.name} Prometheus workspace with this role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "grafana.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "grafana" {
  count = local.grafana ? 1 : 0

  name = "query-prometheus"
  role = aws_iam_role.grafana[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "QueryWorkspace"
        Effect   = "Allow"
        Action   = ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata", "aps:DescribeWorkspace"]
        Resource = aws_prometheus_workspace.this.arn
      },
      {
        Sid      = "ListWorkspaces"
        Effect   = "Allow"
        Action   = ["aps:ListWorkspaces"]
        Resource = "*"
      },
    ]
  })
}

resource "aws_grafana_workspace" "this" {
  count = local.grafana ? 1 : 0

  name                     = var.name
  description              = "Dashboards of ${var.name}"
  account_access_type      = "CURRENT_ACCOUNT"
  authentication_providers = var.grafana.authentication_providers
  permission_type          = "SERVICE_MANAGED"
  role_arn                 = aws_iam_role.grafana[0].arn
  data_sources             = ["PROMETHEUS"]

  tags = var.tags
}
