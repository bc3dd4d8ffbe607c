output "vpc_id" {
  description = "ID of the VPC (created or passed in)."
  value       = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
}

output "public_subnet_ids" {
  description = "Subnets for the load balancer and the tasks (created or passed in)."
  value       = local.create_vpc ? aws_subnet.public[*].id : var.subnet_ids
}

output "azs" {
  description = "Availability zones of the created subnets (empty when an existing VPC is used)."
  value       = local.azs
}

output "created" {
  description = "Whether this module created the network (false when an existing VPC was passed in)."
  value       = local.create_vpc
}
