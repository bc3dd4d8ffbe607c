# The scheduled drift job: one schedule and task definition per model, running
# the service's image with `drift`, and roles scoped to what the job touches.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name               = "mlserve-test"
  models             = ["imdb-sentiment", "spam"]
  image              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlserve:0123456789abcdef0123456789abcdef01234567"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/mlserve-test"
  execution_role_arn = "arn:aws:iam::123456789012:role/mlserve-test-execution"
  log_group_name     = "/ecs/mlserve-test"
  subnet_ids         = ["subnet-0aaaaaaaaaaaaaaaa"]
  security_group_ids = ["sg-0123456789abcdef0"]
  bucket_name        = "mlserve-models"
  bucket_arn         = "arn:aws:s3:::mlserve-models"
  models_prefix      = "models"
  capture_prefix     = "capture"
  sns_topic_arn      = "arn:aws:sns:eu-west-1:123456789012:mlserve-test-alarms"
}

run "one_scheduled_task_per_model" {
  command = apply

  assert {
    condition     = keys(aws_scheduler_schedule.this) == ["imdb-sentiment", "spam"] && keys(aws_ecs_task_definition.this) == ["imdb-sentiment", "spam"]
    error_message = "Each model gets its own schedule and task definition."
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this["spam"].container_definitions)[0].command == ["drift", "--model", "spam", "--window", "PT1H"] &&
      jsondecode(aws_ecs_task_definition.this["spam"].container_definitions)[0].image == var.image
    )
    error_message = "The task runs the service's own image with the drift command for its model."
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this["spam"].container_definitions)[0].readonlyRootFilesystem == true &&
      jsondecode(aws_ecs_task_definition.this["spam"].container_definitions)[0].mountPoints == [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }] &&
      one(aws_ecs_task_definition.this["spam"].volume).name == "tmp"
    )
    error_message = "The root file system is read-only; baselines download into a task volume at /tmp."
  }

  assert {
    condition = (
      { for e in jsondecode(aws_ecs_task_definition.this["spam"].container_definitions)[0].environment : e.name => e.value } == {
        AWS_REGION          = "eu-west-1"
        CAPTURE_S3_URI      = "s3://mlserve-models/capture"
        DRIFT_MIN_ROWS      = "200"
        DRIFT_REPORT_S3_URI = "s3://mlserve-models/drift-reports"
        DRIFT_SNS_TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:mlserve-test-alarms"
        LOG_FORMAT          = "json"
        MODEL_BASE_PATH     = "s3://mlserve-models/models"
      }
    )
    error_message = "The job reads capture and baselines and writes reports where the service's bucket keeps them."
  }

  assert {
    condition = (
      aws_scheduler_schedule.this["spam"].schedule_expression == "cron(5 * * * ? *)" &&
      one(aws_scheduler_schedule.this["spam"].target).arn == var.cluster_arn &&
      one(one(aws_scheduler_schedule.this["spam"].target).ecs_parameters).launch_type == "FARGATE" &&
      one(one(aws_scheduler_schedule.this["spam"].target).ecs_parameters).task_definition_arn == aws_ecs_task_definition.this["spam"].arn
    )
    error_message = "The schedule runs the model's task definition on Fargate in the cluster, hourly."
  }

  assert {
    condition = (
      sort(flatten([for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Action])) ==
      sort(["s3:ListBucket", "s3:GetObject", "s3:PutObject", "sns:Publish"]) &&
      [for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Resource if s.Sid == "WriteReports"] == ["arn:aws:s3:::mlserve-models/drift-reports/*"] &&
      [for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Resource if s.Sid == "PublishViolations"] == [var.sns_topic_arn]
    )
    error_message = "The job may read capture/baselines, write only under the reports prefix, and publish only to the topic."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.scheduler.policy).Statement : s.Action if s.Sid == "RunDriftTask"] == [["ecs:RunTask"]] &&
      [for s in jsondecode(aws_iam_role_policy.scheduler.policy).Statement : s.Condition.ArnEquals["ecs:cluster"] if s.Sid == "RunDriftTask"] == [var.cluster_arn] &&
      [for s in jsondecode(aws_iam_role_policy.scheduler.policy).Statement : toset(s.Resource) if s.Sid == "PassDriftRoles"] == [toset([aws_iam_role.task.arn, var.execution_role_arn])]
    )
    error_message = "The scheduler may run the drift tasks in this cluster and pass only their two roles."
  }
}

run "rejects_a_model_name_that_is_not_an_identifier" {
  command = plan

  variables {
    models = ["../etc"]
  }

  expect_failures = [var.models]
}
