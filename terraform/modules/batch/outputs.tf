output "state_machine_arn" {
  description = "ARN of the batch state machine (start it with {\"key\": \"<input_prefix>/<job>/_READY\"})."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the batch state machine."
  value       = aws_sfn_state_machine.this.name
}

output "topic_arn" {
  description = "SNS topic of the job notifications (attributes: model, outcome)."
  value       = aws_sns_topic.this.arn
}

output "task_definition_arn" {
  description = "ARN of the batch task definition."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "Role of the batch container."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "Role ECS starts the batch task with."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "Log group of the batch tasks."
  value       = aws_cloudwatch_log_group.tasks.name
}

output "input_uri" {
  description = "Where job folders go: <input_uri>/<job>/<files>, then <input_uri>/<job>/_READY."
  value       = "s3://${var.bucket_name}/${var.input_prefix}"
}

output "output_uri" {
  description = "Where job results appear: <output_uri>/<job>/ (manifest _SUCCESS last)."
  value       = "s3://${var.bucket_name}/${var.output_prefix}"
}

output "container_image" {
  description = "Image the batch task definition runs."
  value       = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].image
}
