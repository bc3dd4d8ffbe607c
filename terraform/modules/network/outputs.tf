output "vpc_id" {
  description = "ID of the VPC (created or passed in)."
  value       = local.vpc_id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC (created or passed in)."
  value       = local.create_vpc ? var.vpc_cidr : data.aws_vpc.existing[0].cidr_block
}

output "public_subnet_ids" {
  description = "Subnets for the load balancer (created or passed in)."
  value       = local.create_vpc ? aws_subnet.public[*].id : var.subnet_ids
}

output "private_subnet_ids" {
  description = "Private subnets (created with private_networking, or passed in); empty without them."
  value       = local.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids
}

output "task_subnet_ids" {
  description = "Where the tasks run: the private subnets when there are any, else the public ones."
  value       = local.tasks_private ? (local.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids) : (local.create_vpc ? aws_subnet.public[*].id : var.subnet_ids)
}

output "tasks_private" {
  description = "Whether the tasks run in private subnets (then they need no public IP)."
  value       = local.tasks_private
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (for task egress rules); null without one."
  value       = local.private ? aws_vpc_endpoint.s3[0].prefix_list_id : null
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints; null without them."
  value       = local.private ? aws_security_group.endpoints[0].id : null
}

output "interface_endpoint_ids" {
  description = "Interface endpoint IDs by service name."
  value       = { for k, e in aws_vpc_endpoint.interface : k => e.id }
}

output "nat_gateway_id" {
  description = "The NAT gateway, when one was asked for."
  value       = one(aws_nat_gateway.this[*].id)
}

output "flow_log_group_name" {
  description = "CloudWatch log group of the VPC flow logs; null when they are off."
  value       = one(aws_cloudwatch_log_group.flow_logs[*].name)
}

output "azs" {
  description = "Availability zones of the created subnets (empty when an existing VPC is used)."
  value       = local.azs
}

output "created" {
  description = "Whether this module created the network (false when an existing VPC was passed in)."
  value       = local.create_vpc
}
