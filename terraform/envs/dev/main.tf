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
  assign_public_ip = var.assign_public_ip

  alb_ingress_cidrs = var.alb_ingress_cidrs
  certificate_arn   = var.certificate_arn

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
  subnet_ids         = module.network.public_subnet_ids
  assign_public_ip   = var.assign_public_ip

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
