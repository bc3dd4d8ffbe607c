output "plan_role_arn" {
  description = "Role for terraform.yml's plan job (pull requests): repository variable TERRAFORM_PLAN_ROLE_ARN."
  value       = aws_iam_role.plan.arn
}

output "apply_role_arn" {
  description = "Role for the apply and destroy jobs (environment `terraform`): repository variable TERRAFORM_APPLY_ROLE_ARN."
  value       = aws_iam_role.apply.arn
}

output "apply_policy_arn" {
  description = "The managed policy the apply role and the CodeBuild runner share."
  value       = aws_iam_policy.apply.arn
}

output "plan_subjects" {
  description = "The `sub` claims the plan role trusts."
  value       = local.plan_subjects
}

output "apply_subjects" {
  description = "The `sub` claims the apply role trusts."
  value       = local.apply_subjects
}

output "codebuild_project_name" {
  description = "The Terraform CodeBuild project (null without codebuild_connection_arn)."
  value       = try(aws_codebuild_project.terraform[0].name, null)
}

output "plan_role_trust" {
  description = "The plan role's trust policy (JSON)."
  value       = aws_iam_role.plan.assume_role_policy
}
