# Two security groups: the load balancer accepts the listener ports from
# alb_ingress_cidrs and may talk only to the tasks' port; the tasks accept
# only the load balancer, and may go out on 443 only (ECR, S3, CloudWatch Logs),
# to task_egress_cidrs and task_egress_prefix_list_ids.

locals {
  listener_ports = local.https ? [80, 443] : [80]
  alb_ingress = {
    for pair in setproduct(local.listener_ports, var.alb_ingress_cidrs) :
    "${pair[0]}-${pair[1]}" => { port = pair[0], cidr = pair[1] }
  }
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Load balancer of ${var.name}"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-alb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_listeners" {
  for_each = local.alb_ingress

  security_group_id = aws_security_group.alb.id
  description       = "Clients to listener port ${each.value.port}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Load balancer to tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.tasks.id

  tags = var.tags
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Tasks of ${var.name}: only the load balancer may connect"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-tasks" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Load balancer to the service port"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.alb.id

  tags = var.tags
}

# HTTPS out, only to where the AWS APIs are: anywhere with public IPs or a NAT,
# the VPC's interface endpoints and the S3 prefix list with private networking.
resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  for_each = toset(var.task_egress_cidrs)

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (ECR, S3, CloudWatch Logs, STS)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value

  tags = var.tags
}

moved {
  from = aws_vpc_security_group_egress_rule.tasks_https
  to   = aws_vpc_security_group_egress_rule.tasks_https["0.0.0.0/0"]
}

resource "aws_vpc_security_group_egress_rule" "tasks_https_prefix_lists" {
  # count, not for_each: a prefix list ID is known only once its endpoint exists.
  count = length(var.task_egress_prefix_list_ids)

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to an AWS service prefix list (S3 gateway endpoint)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.task_egress_prefix_list_ids[count.index]

  tags = var.tags
}
