# Application Load Balancer in front of the tasks. Targets are task IPs
# (awsvpc); health is the service's readiness endpoint, so a task gets traffic
# only once its models are loaded and warm, and stops getting it while draining.

locals {
  https = var.certificate_arn != null
}

resource "aws_lb" "this" {
  name               = var.name
  load_balancer_type = "application"
  internal           = var.alb_internal
  security_groups    = [aws_security_group.alb.id]
  subnets            = var.subnet_ids

  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection
  idle_timeout               = 60

  dynamic "access_logs" {
    for_each = var.alb_access_logs ? [1] : []
    content {
      bucket  = aws_s3_bucket.alb_logs[0].id
      prefix  = local.alb_logs_prefix
      enabled = true
    }
  }

  tags = var.tags

  # ELB checks that it may write to the bucket when logging is switched on.
  depends_on = [aws_s3_bucket_policy.alb_logs]
}

resource "aws_lb_target_group" "this" {
  name        = "${var.name}-app"
  port        = var.container_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  # Matches the service's drain time after SIGTERM: the ALB stops sending new
  # requests while in-flight ones finish.
  deregistration_delay = var.shutdown_timeout_seconds

  # Ramps a new task's traffic share while its JIT is still compiling the hot path (30-40 s under load).
  slow_start = var.slow_start_seconds

  health_check {
    enabled             = true
    path                = var.readiness_path
    protocol            = "HTTP"
    matcher             = "200"
    interval            = var.health_check_interval
    timeout             = min(5, var.health_check_interval - 1) # the ALB refuses timeout >= interval
    healthy_threshold   = var.healthy_threshold
    unhealthy_threshold = var.unhealthy_threshold
  }

  tags = var.tags
}

# Port 80: forwards to the service, or redirects to HTTPS when a certificate is given.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}
