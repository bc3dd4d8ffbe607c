mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name = "mlserve-test"
}

run "tags_are_immutable_and_scanned" {
  command = apply

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "Tags must be immutable (images are tagged by commit SHA)."
  }

  assert {
    condition     = one(aws_ecr_repository.this.image_scanning_configuration).scan_on_push
    error_message = "Images must be scanned on push."
  }

  assert {
    condition     = !aws_ecr_repository.this.force_delete
    error_message = "force_delete must default to false."
  }

  assert {
    condition = (
      [for r in jsondecode(aws_ecr_lifecycle_policy.this.policy).rules : r.selection.tagStatus] == ["untagged", "any"] &&
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection.countNumber == 30
    )
    error_message = "The lifecycle policy must expire untagged images and keep the newest 30."
  }
}
