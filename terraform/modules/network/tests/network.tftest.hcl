mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name = "mlserve-test"
}

run "creates_public_subnets_in_two_azs" {
  command = apply

  variables {
    private_networking = false
  }

  assert {
    condition     = length(aws_subnet.public) == 2 && length(toset(aws_subnet.public[*].availability_zone)) == 2
    error_message = "Two public subnets in two different AZs are expected."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "Subnets must not hand out public IPs implicitly."
  }

  assert {
    condition     = aws_route.internet[0].destination_cidr_block == "0.0.0.0/0" && aws_route.internet[0].gateway_id == aws_internet_gateway.this[0].id
    error_message = "The public route table must route to the internet gateway."
  }

  assert {
    condition     = length(aws_default_security_group.this[0].ingress) == 0 && length(aws_default_security_group.this[0].egress) == 0
    error_message = "The default security group must have no rules."
  }
}

run "uses_an_existing_network" {
  command = apply

  variables {
    vpc_id     = "vpc-0123456789abcdef0"
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  }

  assert {
    condition     = length(aws_vpc.this) == 0 && length(aws_subnet.public) == 0 && length(aws_internet_gateway.this) == 0
    error_message = "Nothing may be created when an existing VPC is given."
  }

  assert {
    condition     = output.vpc_id == "vpc-0123456789abcdef0" && output.public_subnet_ids == tolist(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"])
    error_message = "The existing network must be passed through."
  }

  assert {
    condition     = !output.tasks_private && output.task_subnet_ids == tolist(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"])
    error_message = "Without private subnets given, tasks use the given subnets."
  }

  assert {
    condition     = length(aws_vpc_endpoint.interface) == 0 && length(aws_subnet.private) == 0 && output.vpc_cidr == "10.50.0.0/16"
    error_message = "An existing network gets no endpoints or subnets; its CIDR is read back."
  }

  assert {
    condition     = aws_flow_log.this[0].vpc_id == "vpc-0123456789abcdef0"
    error_message = "Flow logs are switched on for an existing VPC too."
  }
}

run "uses_existing_private_subnets_for_tasks" {
  command = apply

  variables {
    vpc_id             = "vpc-0123456789abcdef0"
    subnet_ids         = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
    private_subnet_ids = ["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"]
  }

  assert {
    condition     = output.tasks_private && output.task_subnet_ids == tolist(["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"])
    error_message = "Given private subnets are where the tasks run."
  }
}

run "rejects_an_existing_vpc_without_subnets" {
  command = plan

  variables {
    vpc_id = "vpc-0123456789abcdef0"
  }

  expect_failures = [var.subnet_ids]
}

run "private_networking_keeps_tasks_off_the_internet" {
  command = apply

  assert {
    condition     = length(aws_subnet.private) == 2 && length(toset(aws_subnet.private[*].availability_zone)) == 2
    error_message = "Two private subnets in two AZs are expected."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "Private subnets never hand out public IPs."
  }

  assert {
    condition     = output.tasks_private && output.task_subnet_ids == tolist(aws_subnet.private[*].id)
    error_message = "Tasks must run in the private subnets."
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_route.private_nat) == 0
    error_message = "No NAT gateway (nor a default route) unless asked for: the endpoints serve AWS."
  }

  assert {
    condition = (
      aws_vpc_endpoint.s3[0].vpc_endpoint_type == "Gateway" &&
      aws_vpc_endpoint.s3[0].service_name == "com.amazonaws.eu-west-1.s3" &&
      aws_vpc_endpoint.s3[0].route_table_ids == toset([aws_route_table.private[0].id])
    )
    error_message = "S3 must be reached through a gateway endpoint on the private route table."
  }

  assert {
    condition     = keys(aws_vpc_endpoint.interface) == ["ecr.api", "ecr.dkr", "logs", "sts"]
    error_message = "ECR api/dkr, CloudWatch Logs and STS interface endpoints are expected."
  }

  assert {
    condition = alltrue([
      for e in aws_vpc_endpoint.interface :
      e.vpc_endpoint_type == "Interface" && e.private_dns_enabled &&
      e.subnet_ids == toset(aws_subnet.private[*].id) &&
      e.security_group_ids == toset([aws_security_group.endpoints[0].id])
    ])
    error_message = "Interface endpoints sit in the private subnets, with private DNS and their own security group."
  }

  assert {
    condition = (
      toset([for r in aws_vpc_security_group_ingress_rule.endpoints_https : r.cidr_ipv4]) == toset(["10.20.100.0/24", "10.20.101.0/24"]) &&
      alltrue([for r in aws_vpc_security_group_ingress_rule.endpoints_https : r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp"])
    )
    error_message = "The endpoints accept HTTPS from the private subnets only."
  }

  assert {
    condition     = output.s3_prefix_list_id == "pl-6da54004"
    error_message = "The S3 prefix list is exported for task egress rules."
  }

  assert {
    condition = (
      aws_flow_log.this[0].traffic_type == "ALL" &&
      aws_flow_log.this[0].log_destination_type == "cloud-watch-logs" &&
      aws_flow_log.this[0].log_destination == aws_cloudwatch_log_group.flow_logs[0].arn &&
      aws_flow_log.this[0].iam_role_arn == aws_iam_role.flow_logs[0].arn &&
      aws_cloudwatch_log_group.flow_logs[0].retention_in_days == 30
    )
    error_message = "Flow logs of all traffic go to a log group with a 30-day retention."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.flow_logs[0].assume_role_policy).Statement[0].Principal.Service == "vpc-flow-logs.amazonaws.com" &&
      jsondecode(aws_iam_role_policy.flow_logs[0].policy).Statement[0].Resource == "${aws_cloudwatch_log_group.flow_logs[0].arn}:*"
    )
    error_message = "Only the flow-logs service may use the role, and only on its log group."
  }
}

run "nat_gateway_only_when_asked" {
  command = apply

  variables {
    nat_gateway         = true
    interface_endpoints = ["ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager"]
  }

  assert {
    condition = (
      length(aws_nat_gateway.this) == 1 &&
      aws_nat_gateway.this[0].subnet_id == aws_subnet.public[0].id &&
      aws_route.private_nat[0].route_table_id == aws_route_table.private[0].id &&
      aws_route.private_nat[0].nat_gateway_id == aws_nat_gateway.this[0].id
    )
    error_message = "One NAT gateway in a public subnet is the private subnets' default route."
  }

  assert {
    condition     = contains(keys(aws_vpc_endpoint.interface), "secretsmanager")
    error_message = "Extra interface endpoints are added as listed."
  }
}

run "flow_logs_can_be_switched_off" {
  command = plan

  variables {
    flow_logs_enabled = false
  }

  assert {
    condition     = length(aws_flow_log.this) == 0 && output.flow_log_group_name == null
    error_message = "No flow logs when switched off."
  }
}
