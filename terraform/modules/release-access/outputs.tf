output "role_arn" {
  description = "Role the release workflow assumes (repository variable RELEASE_ROLE_ARN)."
  value       = aws_iam_role.release.arn
}

output "topic_arn" {
  description = "SNS topic receiving one message per release decision (RELEASE_SNS_TOPIC_ARN)."
  value       = aws_sns_topic.releases.arn
}

output "github_subjects" {
  description = "OIDC `sub` values the role trusts."
  value       = local.github_subjects
}
