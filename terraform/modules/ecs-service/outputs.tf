output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "Name of the ECS service."
  value       = local.service_name
}

output "service_arn" {
  description = "ARN of the ECS service."
  value       = local.service_arn
}

output "task_definition_arn" {
  description = "ARN of the task definition revision Terraform registered (CI may have registered newer ones)."
  value       = aws_ecs_task_definition.this.arn
}

output "task_definition_family" {
  description = "Task definition family (CI registers new revisions in it)."
  value       = aws_ecs_task_definition.this.family
}

output "container_name" {
  description = "Name of the service's container in the task definition."
  value       = var.container_name
}

output "task_role_arn" {
  description = "ARN of the task role (the service's own permissions)."
  value       = aws_iam_role.task.arn
}

output "task_role_name" {
  description = "Name of the task role."
  value       = aws_iam_role.task.name
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the containers."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "alb_arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (CloudWatch dimension LoadBalancer)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 zone ID of the load balancer (for an alias record)."
  value       = aws_lb.this.zone_id
}

output "service_url" {
  description = "Base URL of the service through the load balancer."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "target_group_arn" {
  description = "ARN of the target group."
  value       = aws_lb_target_group.this.arn
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (CloudWatch dimension TargetGroup)."
  value       = aws_lb_target_group.this.arn_suffix
}

output "alb_security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.alb.id
}

output "tasks_security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.tasks.id
}

output "alb_access_logs_bucket" {
  description = "Bucket of the load balancer's access logs (under alb/AWSLogs/); null when they are off."
  value       = one(aws_s3_bucket.alb_logs[*].bucket)
}

output "waf_web_acl_arn" {
  description = "The WAFv2 web ACL on the load balancer; null without one."
  value       = one(aws_wafv2_web_acl.this[*].arn)
}

output "container_secrets" {
  description = "Secret environment variables of the container: name => ARN it is read from (valueFrom)."
  value       = local.secrets
}

output "tasks_egress" {
  description = "Where the tasks may go on 443: CIDR blocks and prefix lists."
  value       = { cidrs = var.task_egress_cidrs, prefix_lists = var.task_egress_prefix_list_ids }
}
