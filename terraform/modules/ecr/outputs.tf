output "repository_name" {
  description = "Name of the repository."
  value       = aws_ecr_repository.this.name
}

output "repository_arn" {
  description = "ARN of the repository (for IAM policies)."
  value       = aws_ecr_repository.this.arn
}

output "repository_url" {
  description = "Registry URL of the repository, `<account>.dkr.ecr.<region>.amazonaws.com/<name>`; append `:<git sha>` for an image."
  value       = aws_ecr_repository.this.repository_url
}

output "registry_id" {
  description = "Account ID of the registry."
  value       = aws_ecr_repository.this.registry_id
}
