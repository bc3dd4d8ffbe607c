output "task_definition_arns" {
  description = "Task definitions of the drift job, by model (run one by hand with aws ecs run-task)."
  value       = { for m, td in aws_ecs_task_definition.this : m => td.arn }
}

output "task_role_arn" {
  description = "Role the drift job runs with."
  value       = aws_iam_role.task.arn
}

output "schedule_names" {
  description = "EventBridge Scheduler schedules, by model."
  value       = { for m, s in aws_scheduler_schedule.this : m => s.name }
}

output "report_uri" {
  description = "Where reports are written (s3://bucket/prefix)."
  value       = local.environment.DRIFT_REPORT_S3_URI
}

output "sns_topic_arn" {
  description = "Topic the job publishes violations to."
  value       = var.sns_topic_arn
}
