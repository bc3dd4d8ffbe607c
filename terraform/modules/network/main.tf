# The service's network: one VPC, an internet gateway and one public subnet per
# AZ for the load balancer; with private_networking (private.tf) also private
# subnets for the tasks and VPC endpoints, else the tasks run in the public
# subnets with public IPs. Flow logs in flow_logs.tf. Pass vpc_id and
# subnet_ids (and private_subnet_ids) to use an existing network instead.

locals {
  create_vpc    = var.vpc_id == null
  vpc_id        = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  tasks_private = local.create_vpc ? var.private_networking : length(var.private_subnet_ids) > 0
  azs = (
    !local.create_vpc ? [] :
    var.azs != null ? var.azs :
    slice(data.aws_availability_zones.available[0].names, 0, 2)
  )
}

data "aws_availability_zones" "available" {
  count = local.create_vpc && var.azs == null ? 1 : 0

  state = "available"
}

resource "aws_vpc" "this" {
  count = local.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# Take over the VPC's default security group and leave it without rules, so
# nothing that lands in it by accident can talk to anything.
resource "aws_default_security_group" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_internet_gateway" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = length(local.azs)

  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)
  # Tasks ask for a public IP themselves (assign_public_ip); nothing else
  # launched here should get one silently.
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-public-${local.azs[count.index]}", Tier = "public" })
}

resource "aws_route_table" "public" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "internet" {
  count = local.create_vpc ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count = length(local.azs)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

data "aws_vpc" "existing" {
  count = local.create_vpc ? 0 : 1

  id = var.vpc_id
}
