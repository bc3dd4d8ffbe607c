output "deploy_role_arn" {
  description = "ARN of the role GitHub Actions assumes (aws-actions/configure-aws-credentials `role-to-assume`)."
  value       = aws_iam_role.deploy.arn
}

output "deploy_role_name" {
  description = "Name of the GitHub deploy role."
  value       = aws_iam_role.deploy.name
}

output "github_subjects" {
  description = "The `sub` claims the deploy role trusts."
  value       = local.github_subjects
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider (created or passed in)."
  value       = local.oidc_provider_arn
}

output "codebuild_project_name" {
  description = "Name of the CodeBuild project."
  value       = aws_codebuild_project.this.name
}

output "codebuild_role_arn" {
  description = "ARN of the CodeBuild service role."
  value       = aws_iam_role.codebuild.arn
}

output "codebuild_log_group_name" {
  description = "Log group of the builds."
  value       = aws_cloudwatch_log_group.codebuild.name
}
