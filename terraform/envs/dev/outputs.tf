# Names the delivery scripts and workflows read with `terraform output -raw <name>`.

output "aws_region" {
  description = "Region of the stack."
  value       = var.aws_region
}

output "github_deploy_role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (`role-to-assume`)."
  value       = module.ci_access.deploy_role_arn
}

output "ecr_repository_url" {
  description = "Image repository; push `<url>:<git sha>`."
  value       = module.ecr.repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster name."
  value       = module.service.cluster_name
}

output "ecs_service_name" {
  description = "ECS service name."
  value       = module.service.service_name
}

output "task_definition_family" {
  description = "Task definition family CI registers new revisions in."
  value       = module.service.task_definition_family
}

output "container_name" {
  description = "Container whose image CI replaces in a new revision."
  value       = module.service.container_name
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = module.service.alb_dns_name
}

output "alb_zone_id" {
  description = "Route 53 zone ID of the load balancer (for a DNS alias record)."
  value       = module.service.alb_zone_id
}

output "service_url" {
  description = "Base URL of the service (http:// or https://)."
  value       = module.service.service_url
}

output "model_bucket_name" {
  description = "Bucket for models (under models/) and captured data (under capture/)."
  value       = module.model_store.bucket_name
}

output "model_base_path" {
  description = "MODEL_BASE_PATH the service uses; upload models to <this>/<name>/<version>/."
  value       = module.model_store.model_base_uri
}

output "capture_s3_uri" {
  description = "CAPTURE_S3_URI the service writes to."
  value       = module.model_store.capture_uri
}

output "log_group_name" {
  description = "CloudWatch log group of the service."
  value       = module.service.log_group_name
}

output "codebuild_project_name" {
  description = "CodeBuild project that runs buildspec.yml."
  value       = module.ci_access.codebuild_project_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.sns_topic_arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard."
  value       = module.monitoring.dashboard_url
}

output "task_role_arn" {
  description = "Task role (models read, capture write)."
  value       = module.service.task_role_arn
}

output "execution_role_arn" {
  description = "Task execution role."
  value       = module.service.execution_role_arn
}

output "codepipeline_name" {
  description = "The CodePipeline (null unless enable_codepipeline)."
  value       = try(module.codepipeline[0].pipeline_name, null)
}

output "codeconnections_connection_arn" {
  description = "The pipeline's GitHub connection; approve it once (console: Developer Tools > Settings > Connections) if Terraform created it."
  value       = try(module.codepipeline[0].connection_arn, null)
}

output "alb_access_logs_bucket" {
  description = "Bucket of the load balancer's access logs; null when they are off."
  value       = module.service.alb_access_logs_bucket
}

output "vpc_flow_log_group" {
  description = "CloudWatch log group of the VPC flow logs; null when they are off."
  value       = module.network.flow_log_group_name
}

output "release_role_arn" {
  description = "Role the release workflow assumes (repository variable RELEASE_ROLE_ARN)."
  value       = module.release_access.role_arn
}

output "release_topic_arn" {
  description = "SNS topic with one message per release decision (RELEASE_SNS_TOPIC_ARN)."
  value       = module.release_access.topic_arn
}

output "prometheus_workspace_id" {
  description = "Amazon Managed Service for Prometheus workspace the sidecar writes to."
  value       = module.prometheus.workspace_id
}

output "prometheus_endpoint" {
  description = "Query endpoint of the workspace (Grafana data source URL)."
  value       = module.prometheus.prometheus_endpoint
}

output "drift_report_uri" {
  description = "Where the drift job writes its reports."
  value       = module.drift_report.report_uri
}

output "batch_state_machine_arn" {
  description = "Batch scoring state machine (null with enable_batch = false); scripts/batch-score.sh starts it."
  value       = try(module.batch[0].state_machine_arn, null)
}

output "batch_topic_arn" {
  description = "SNS topic of batch job summaries and failures."
  value       = try(module.batch[0].topic_arn, null)
}

output "batch_input_uri" {
  description = "Where batch jobs go: <uri>/<job>/<files>, then <uri>/<job>/_READY."
  value       = try(module.batch[0].input_uri, null)
}

output "batch_output_uri" {
  description = "Where batch results appear: <uri>/<job>/ (manifest _SUCCESS last)."
  value       = try(module.batch[0].output_uri, null)
}
