# The dev environment: network, image repository, model store, the service
# behind a load balancer, its alarms and dashboard, and CI's access.

data "aws_caller_identity" "current" {}

locals {
  name = "${var.project}-${var.environment}"
  tags = {} # provider default_tags already tag everything
}

module "network" {
  source = "../../modules/network"

  name       = local.name
  vpc_cidr   = var.vpc_cidr
  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids
  tags       = local.tags

  private_networking = var.private_networking
  private_subnet_ids = var.private_subnet_ids
  nat_gateway        = var.nat_gateway
  # Secrets in the task definition (and the API token re-reads) need Secrets Manager too;
  # the metrics sidecar remote-writes to AMP (aps-workspaces), the drift job publishes to SNS.
  interface_endpoints      = concat(["ecr.api", "ecr.dkr", "logs", "sts", "aps-workspaces", "sns"], var.api_tokens_secret_arn != null || length(var.secrets) > 0 ? ["secretsmanager"] : [])
  flow_logs_enabled        = var.flow_logs_enabled
  flow_logs_retention_days = var.log_retention_days
}

locals {
  # Private subnets without NAT: HTTPS only to the VPC (interface endpoints) and S3's prefix list.
  # (An existing network's routes are not ours to know: its tasks keep 0.0.0.0/0.)
  egress_via_endpoints = module.network.created && module.network.tasks_private && !var.nat_gateway
}

module "ecr" {
  source = "../../modules/ecr"

  # One repository per environment keeps teardown of an env self-contained.
  name         = local.name
  force_delete = var.force_destroy
  tags         = local.tags
}

module "model_store" {
  source = "../../modules/model-store"

  bucket_name             = "${local.name}-models-${data.aws_caller_identity.current.account_id}"
  capture_expiration_days = var.capture_expiration_days
  force_destroy           = var.force_destroy
  tags                    = local.tags
}

module "service" {
  source = "../../modules/ecs-service"

  name             = local.name
  vpc_id           = module.network.vpc_id
  subnet_ids       = module.network.public_subnet_ids
  task_subnet_ids  = module.network.task_subnet_ids
  assign_public_ip = module.network.tasks_private ? false : var.assign_public_ip

  task_egress_cidrs           = local.egress_via_endpoints ? [module.network.vpc_cidr] : ["0.0.0.0/0"]
  task_egress_prefix_list_ids = local.egress_via_endpoints ? [module.network.s3_prefix_list_id] : []

  alb_ingress_cidrs             = var.alb_ingress_cidrs
  certificate_arn               = var.certificate_arn
  alb_internal                  = var.alb_internal
  alb_access_logs               = var.alb_access_logs
  alb_access_logs_force_destroy = var.force_destroy
  waf_enabled                   = var.waf_enabled
  waf_rate_limit                = var.waf_rate_limit

  api_tokens_secret_arn      = var.api_tokens_secret_arn
  api_tokens_refresh_seconds = var.api_tokens_refresh_seconds

  image              = "${module.ecr.repository_url}:${var.image_tag}"
  ecr_repository_arn = module.ecr.repository_arn
  cpu                = var.cpu
  memory             = var.memory
  secrets            = var.secrets

  model_bucket_arn         = module.model_store.bucket_arn
  models_prefix            = module.model_store.models_prefix
  capture_prefix           = module.model_store.capture_prefix
  model_base_path          = module.model_store.model_base_uri
  capture_s3_uri           = module.model_store.capture_uri
  model_poll_seconds       = var.model_poll_seconds
  capture_sample_percent   = var.capture_sample_percent
  low_confidence_band      = var.low_confidence_band
  shutdown_timeout_seconds = var.shutdown_timeout_seconds

  desired_count      = var.desired_count
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
  ci_deploys         = var.ci_deploys
  container_insights = var.container_insights
  log_retention_days = var.log_retention_days

  # Prometheus metrics: ADOT sidecar -> Amazon Managed Service for Prometheus.
  metrics_sidecar = {
    config        = module.prometheus.adot_config
    workspace_arn = module.prometheus.workspace_arn
  }

  tags = local.tags
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                    = local.name
  alarm_emails            = var.alarm_emails
  alb_arn_suffix          = module.service.alb_arn_suffix
  target_group_arn_suffix = module.service.target_group_arn_suffix
  cluster_name            = module.service.cluster_name
  service_name            = module.service.service_name
  log_group_name          = module.service.log_group_name
  metrics_namespace       = "MlServeEcs/${local.name}"
  tags                    = local.tags
}

module "ci_access" {
  source = "../../modules/ci-access"

  name                        = local.name
  github_repository           = var.github_repository
  github_branch               = var.github_branch
  github_environment          = var.github_environment
  github_repository_immutable = var.github_repository_immutable
  create_oidc_provider        = var.create_github_oidc_provider
  oidc_provider_arn           = var.github_oidc_provider_arn

  ecr_repository_arn = module.ecr.repository_arn
  ecr_repository_url = module.ecr.repository_url
  ecs_service_arn    = module.service.service_arn
  pass_role_arns     = [module.service.task_role_arn, module.service.execution_role_arn]
  log_retention_days = var.log_retention_days

  tags = local.tags
}

# Optional: the AWS-native delivery path (CodePipeline: GitHub connection ->
# CodeBuild buildspec.yml -> ECS deploy), beside or instead of GitHub Actions.
module "codepipeline" {
  source = "../../modules/codepipeline"
  count  = var.enable_codepipeline ? 1 : 0

  name              = local.name
  github_repository = var.github_repository
  github_branch     = var.github_branch
  connection_arn    = var.codeconnections_connection_arn

  ecr_repository_arn = module.ecr.repository_arn
  ecr_repository_url = module.ecr.repository_url
  ecs_cluster_name   = module.service.cluster_name
  ecs_service_name   = module.service.service_name
  ecs_service_arn    = module.service.service_arn
  container_name     = module.service.container_name
  pass_role_arns     = [module.service.task_role_arn, module.service.execution_role_arn]
  log_retention_days = var.log_retention_days

  tags = local.tags
}

# The release controller's role (GitHub OIDC, same trust context as deploys) and decision topic.
module "release_access" {
  source = "../../modules/release-access"

  name                = local.name
  oidc_provider_arn   = module.ci_access.oidc_provider_arn
  github_repositories = compact([var.github_repository, var.github_repository_immutable == null ? "" : var.github_repository_immutable])
  github_branch       = var.github_branch
  github_environment  = var.github_environment
  model_bucket_arn    = module.model_store.bucket_arn
  models_prefix       = module.model_store.models_prefix
  model_kms_key_arn   = module.model_store.kms_key_arn
  tags                = local.tags
}

# Amazon Managed Service for Prometheus: the workspace the sidecar writes to,
# alert rules, alertmanager -> the alarm topic, optional Managed Grafana.
module "prometheus" {
  source = "../../modules/prometheus"

  name                = local.name
  alarm_sns_topic_arn = module.monitoring.sns_topic_arn
  alert_manager       = var.amp_alert_manager
  scrape_port         = 8080
  grafana             = { enabled = var.grafana_enabled }
  tags                = local.tags
}

# The hourly drift report of each model's captured predictions.
module "drift_report" {
  source = "../../modules/drift-report"

  name               = local.name
  models             = var.drift_models
  image              = "${module.ecr.repository_url}:${var.image_tag}"
  cluster_arn        = module.service.cluster_arn
  execution_role_arn = module.service.execution_role_arn
  log_group_name     = module.service.log_group_name
  subnet_ids         = module.network.task_subnet_ids
  security_group_ids = [module.service.tasks_security_group_id]
  assign_public_ip   = module.network.tasks_private ? false : var.assign_public_ip
  bucket_name        = module.model_store.bucket_name
  bucket_arn         = module.model_store.bucket_arn
  bucket_kms_key_arn = module.model_store.kms_key_arn
  models_prefix      = module.model_store.models_prefix
  capture_prefix     = module.model_store.capture_prefix
  sns_topic_arn      = module.monitoring.sns_topic_arn
  tags               = local.tags
}
module "batch" {
  source = "../../modules/batch"
  count  = var.enable_batch ? 1 : 0

  # Batch scoring of files under batch/input/<job>/ (docs/BATCH.md). Nothing runs
  # (or costs) until a job starts; see the module README for the per-job cost.
  name               = local.name
  image              = "${module.ecr.repository_url}:${var.image_tag}"
  ecr_repository_arn = module.ecr.repository_arn
  cluster_arn        = module.service.cluster_arn
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.task_subnet_ids
  assign_public_ip   = module.network.tasks_private ? false : var.assign_public_ip

  bucket_name         = module.model_store.bucket_name
  bucket_arn          = module.model_store.bucket_arn
  kms_key_arn         = module.model_store.kms_key_arn
  models_prefix       = module.model_store.models_prefix
  max_concurrency     = var.batch_max_concurrency
  notification_emails = var.batch_notification_emails
  environment         = var.low_confidence_band == null ? {} : { LOW_CONFIDENCE_BAND = var.low_confidence_band }
  log_retention_days  = var.log_retention_days

  tags = local.tags
}
