output "state_bucket_name" {
  description = "Name of the state bucket (the env stacks' backend `bucket`)."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_arn" {
  description = "ARN of the state bucket."
  value       = aws_s3_bucket.state.arn
}

output "backend_config" {
  description = "Contents for envs/<env>/backend.hcl."
  value       = <<-EOT
    bucket = "${aws_s3_bucket.state.id}"
    region = "${data.aws_region.current.name}"
  EOT
}
