# Private networking: tasks in private subnets with no public IP, reaching AWS
# through VPC endpoints (S3 gateway; ECR api/dkr, CloudWatch Logs, STS and any
# others listed as interface endpoints) and, only where something still needs
# the internet, one NAT gateway. Interface endpoints cost about $7.30 a month
# per endpoint per AZ plus $0.01/GB; a NAT gateway about $33 a month plus
# $0.045/GB; the S3 gateway endpoint is free.

locals {
  private = local.create_vpc && var.private_networking

  private_subnet_cidrs = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, 100 + i)]
}

resource "aws_subnet" "private" {
  count = local.private ? length(local.azs) : 0

  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = local.azs[count.index]
  cidr_block              = local.private_subnet_cidrs[count.index]
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}", Tier = "private" })
}

resource "aws_route_table" "private" {
  count = local.private ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-private" })
}

resource "aws_route_table_association" "private" {
  count = length(aws_subnet.private)

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

# One NAT gateway (in the first AZ) when asked for: everything the tasks need
# from AWS goes through the endpoints, so the default is none. One NAT is a
# single-AZ dependency; it only carries what the endpoints do not.
resource "aws_eip" "nat" {
  count = local.private && var.nat_gateway ? 1 : 0

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-nat" })
}

resource "aws_nat_gateway" "this" {
  count = local.private && var.nat_gateway ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id

  tags = merge(var.tags, { Name = var.name })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route" "private_nat" {
  count = local.private && var.nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.private[0].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

# S3 (models, capture, and ECR's image layers) through a free gateway endpoint
# on the private route table.
resource "aws_vpc_endpoint" "s3" {
  count = local.private ? 1 : 0

  vpc_id            = aws_vpc.this[0].id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private[0].id]

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

# Interface endpoints accept HTTPS from the private subnets only.
resource "aws_security_group" "endpoints" {
  count = local.private ? 1 : 0

  name        = "${var.name}-endpoints"
  description = "VPC interface endpoints of ${var.name}: HTTPS from the private subnets"
  vpc_id      = aws_vpc.this[0].id

  tags = merge(var.tags, { Name = "${var.name}-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  for_each = local.private ? toset(local.private_subnet_cidrs) : toset([])

  security_group_id = aws_security_group.endpoints[0].id
  description       = "HTTPS from private subnet ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value

  tags = var.tags
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.private ? toset(var.interface_endpoints) : toset([])

  vpc_id              = aws_vpc.this[0].id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = merge(var.tags, { Name = "${var.name}-${each.value}" })
}

data "aws_region" "current" {}
