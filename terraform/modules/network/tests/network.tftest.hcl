mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name = "mlserve-test"
}

run "creates_public_subnets_in_two_azs" {
  command = apply

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
}

run "rejects_an_existing_vpc_without_subnets" {
  command = plan

  variables {
    vpc_id = "vpc-0123456789abcdef0"
  }

  expect_failures = [var.subnet_ids]
}
