terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # The state of this tiny stack stays local (terraform.tfstate here, git-ignored):
  # it only creates the bucket every other stack keeps its state in. Losing it is
  # harmless - `terraform import aws_s3_bucket.state <name>` brings it back.
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project   = var.project
      ManagedBy = "terraform"
      Stack     = "bootstrap"
    }
  }
}
