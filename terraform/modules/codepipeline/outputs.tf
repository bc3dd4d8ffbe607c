output "pipeline_name" {
  description = "Name of the pipeline (`aws codepipeline start-pipeline-execution --name <this>`)."
  value       = aws_codepipeline.this.name
}

output "pipeline_arn" {
  description = "ARN of the pipeline."
  value       = aws_codepipeline.this.arn
}

output "connection_arn" {
  description = "The GitHub connection the source stage uses (approve it once if this module created it)."
  value       = local.connection_arn
}

output "build_project_name" {
  description = "CodeBuild project of the pipeline's build stage (buildspec.yml)."
  value       = aws_codebuild_project.build.name
}

output "artifact_bucket_name" {
  description = "Bucket holding the pipeline's artifacts."
  value       = aws_s3_bucket.artifacts.id
}

output "pipeline_role_arn" {
  description = "Role of the pipeline."
  value       = aws_iam_role.pipeline.arn
}

output "build_role_arn" {
  description = "Role of the build project."
  value       = aws_iam_role.build.arn
}
