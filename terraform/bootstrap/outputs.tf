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

output "github_oidc_provider_arn" {
  description = "GitHub OIDC provider the CI roles trust (pass to the env stack as github_oidc_provider_arn)."
  value       = try(coalesce(var.github_oidc_provider_arn, try(aws_iam_openid_connect_provider.github[0].arn, null)), null)
}

output "terraform_plan_role_arn" {
  description = "Repository variable TERRAFORM_PLAN_ROLE_ARN (terraform.yml plan job, pull requests)."
  value       = try(module.terraform_ci[0].plan_role_arn, null)
}

output "terraform_apply_role_arn" {
  description = "Repository variable TERRAFORM_APPLY_ROLE_ARN (terraform.yml apply and destroy.yml, environment terraform)."
  value       = try(module.terraform_ci[0].apply_role_arn, null)
}

output "terraform_codebuild_project_name" {
  description = "CodeBuild project running buildspec-terraform.yml (null without a connection)."
  value       = try(module.terraform_ci[0].codebuild_project_name, null)
}
