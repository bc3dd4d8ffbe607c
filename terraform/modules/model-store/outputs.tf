output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "models_prefix" {
  description = "Key prefix of the models (no trailing slash)."
  value       = var.models_prefix
}

output "capture_prefix" {
  description = "Key prefix of the captured data (no trailing slash)."
  value       = var.capture_prefix
}

output "model_base_uri" {
  description = "Value for the service's MODEL_BASE_PATH, e.g. s3://bucket/models."
  value       = "s3://${aws_s3_bucket.this.bucket}/${var.models_prefix}"
}

output "capture_uri" {
  description = "Value for the service's CAPTURE_S3_URI, e.g. s3://bucket/capture."
  value       = "s3://${aws_s3_bucket.this.bucket}/${var.capture_prefix}"
}

output "kms_key_arn" {
  description = "KMS key the bucket encrypts with (null for SSE-S3)."
  value       = var.kms_key_arn
}
