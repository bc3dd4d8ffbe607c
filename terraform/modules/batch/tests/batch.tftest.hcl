# The state machine's definition (the .sync ECS steps, the Distributed Map, the
# Choices, the SNS publish, retries and timeouts), the trigger and the IAM
# scoping, checked on a mock provider: no AWS account needed.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock-role" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:mock-topic" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn                  = "arn:aws:ecs:eu-west-1:123456789012:task-definition/test-batch:1"
      arn_without_revision = "arn:aws:ecs:eu-west-1:123456789012:task-definition/test-batch"
    }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:test-batch" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0123456789abcdef0" }
  }
}

variables {
  name               = "test"
  image              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/test:abc1234"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:123456789012:repository/test"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/test"
  vpc_id             = "vpc-0123"
  subnet_ids         = ["subnet-a", "subnet-b"]
  bucket_name        = "test-models"
  bucket_arn         = "arn:aws:s3:::test-models"
  model_name         = "imdb-sentiment"
}

run "state_machine_runs_the_job_steps_on_fargate" {
  command = apply

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "ecs:runTask.sync and the Distributed Map need a Standard workflow."
  }

  assert {
    condition = alltrue([
      for s in ["Plan", "Merge"] :
      jsondecode(aws_sfn_state_machine.this.definition).States[s].Resource == "arn:aws:states:::ecs:runTask.sync"
    ])
    error_message = "Plan and Merge must run ECS tasks with the .sync integration (wait for them)."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.Plan.Parameters.Overrides.ContainerOverrides[0].Command == ["batch", "plan"] &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Merge.Parameters.Overrides.ContainerOverrides[0].Command == ["batch", "merge"] &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.ScorePart.Parameters.Overrides.ContainerOverrides[0].Command == ["batch", "score"]
    )
    error_message = "The steps must run the image's batch plan / score / merge commands."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Plan.Parameters.LaunchType == "FARGATE" && jsondecode(aws_sfn_state_machine.this.definition).States.Plan.Parameters.NetworkConfiguration.AwsvpcConfiguration.Subnets == ["subnet-a", "subnet-b"]
    error_message = "Tasks must run on Fargate in the given subnets."
  }

  # The container environment the scoring step receives is the contract with
  # `batch score` (BatchJobTest runs each part with exactly these names).
  assert {
    condition = toset([
      for e in jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.ScorePart.Parameters.Overrides.ContainerOverrides[0].Environment : e.Name
      ]) == toset(["BATCH_PART", "BATCH_INPUT_URI", "BATCH_BYTE_RANGE", "BATCH_INPUT_FORMAT",
    "BATCH_MODEL", "BATCH_MODEL_VERSION", "BATCH_OUTPUT_URI"])
    error_message = "ScorePart must pass the plan item's fields as the batch score environment."
  }

  assert {
    condition = alltrue([
      for e in jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.ScorePart.Parameters.Overrides.ContainerOverrides[0].Environment :
      can(regex("^(\\$\\.item\\.(part|input_uri|byte_range|format|model)|States\\.Format\\('\\{\\}', \\$\\.item\\.model_version\\)|\\$\\.output_uri)$", e["Value.$"]))
    ])
    error_message = "ScorePart's values must come from the plan item's JSON fields (PlanItem)."
  }
}

run "distributed_map_is_bounded_and_retried" {
  command = apply

  variables {
    max_concurrency              = 7
    tolerated_failure_percentage = 5
    part_timeout_seconds         = 1200
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.ProcessorConfig.Mode == "DISTRIBUTED"
    error_message = "Scale-out must use a Distributed Map."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemReader.Resource == "arn:aws:states:::s3:getObject" && jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemReader.ReaderConfig.InputType == "JSON" && jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemReader.Parameters.Bucket == "test-models"
    error_message = "The map must read its items from the plan JSON in the bucket."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Score.MaxConcurrency == 7 && jsondecode(aws_sfn_state_machine.this.definition).States.Score.ToleratedFailurePercentage == 5
    error_message = "Concurrency and tolerated failures must follow the variables."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.ScorePart.TimeoutSeconds == 1200 &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.ScorePart.Retry[0].MaxAttempts == 2 &&
      contains(jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.ScorePart.Retry[0].ErrorEquals, "States.TaskFailed") &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Plan.TimeoutSeconds == 1800 &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Merge.TimeoutSeconds == 1800
    )
    error_message = "Every task state needs a timeout, and parts per-item retries."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.PartOk.Choices[0].Variable == "$.exit_code" && jsondecode(aws_sfn_state_machine.this.definition).States.Score.ItemProcessor.States.PartOk.Default == "PartFailed"
    error_message = "A scoring container that exits non-zero must fail its item."
  }
}

run "choice_on_the_manifest_and_failures_notify" {
  command = apply

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.ReadManifest.Resource == "arn:aws:states:::aws-sdk:s3:getObject" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.ReadManifest.ResultSelector["manifest.$"] == "States.StringToJson($.Body)"
    )
    error_message = "The manifest must be read back from S3 and parsed."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.Outcome.Type == "Choice" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Outcome.Choices[0].Variable == "$.result.manifest.counts.failed_rows" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Outcome.Choices[0].Next == "RowsFailed" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.Outcome.Choices[1].Variable == "$.result.manifest.counts.low_confidence_rows"
    )
    error_message = "The Choice must branch on the manifest's failed and low-confidence counts."
  }

  # Every step that can fail or time out is caught and ends in an SNS publish.
  assert {
    condition = alltrue([
      for s in ["Plan", "Score", "Merge", "ReadManifest"] :
      jsondecode(aws_sfn_state_machine.this.definition).States[s].Catch[0].ErrorEquals == ["States.ALL"] &&
      jsondecode(aws_sfn_state_machine.this.definition).States[s].Catch[0].Next == "FailureMessage"
    ])
    error_message = "Plan, Score, Merge and ReadManifest must catch every error (timeouts included)."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.PlanOk.Default == "PlanFailed" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.PlanFailed.Next == "FailureMessage" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.MergeOk.Default == "MergeFailed" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.MergeFailed.Next == "FailureMessage" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.FailureMessage.Next == "NotifyFailure"
    )
    error_message = "A container that exits non-zero must notify too."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.NotifyFailure.Resource == "arn:aws:states:::sns:publish" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.NotifyFailure.Parameters.TopicArn == aws_sns_topic.this.arn &&
      jsondecode(aws_sfn_state_machine.this.definition).States.NotifyFailure.Parameters.MessageAttributes.outcome.StringValue == "failed" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.NotifyFailure.Parameters.MessageAttributes.model.StringValue == "imdb-sentiment" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.NotifyFailure.Next == "Failed"
    )
    error_message = "Failures must publish to the topic with the model and outcome attributes."
  }

  assert {
    condition     = one([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.value if e.name == "BATCH_SNS_TOPIC_ARN"]) == aws_sns_topic.this.arn
    error_message = "The merge step must know the topic to publish the job's summary."
  }
}

run "trigger_and_least_privilege" {
  command = apply

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.ready.event_pattern).detail.object.key[0].wildcard == "batch/input/*/_READY" && jsondecode(aws_cloudwatch_event_rule.ready.event_pattern)["detail-type"] == ["Object Created"]
    error_message = "The rule must start a job on <input_prefix>/<job>/_READY only."
  }

  assert {
    condition     = aws_s3_bucket_notification.eventbridge[0].eventbridge
    error_message = "The bucket must send its events to EventBridge."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.task.policy).Statement :
      alltrue([for r in flatten([s.Resource]) : r != "*" && r != "arn:aws:s3:::test-models/*"])
    ])
    error_message = "The task role must name its prefixes, never the whole bucket."
  }

  assert {
    condition = (
      toset(one([for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Action if s.Sid == "WriteOutputs"])) == toset(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]) &&
      one([for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Resource if s.Sid == "WriteOutputs"]) == "arn:aws:s3:::test-models/batch/output/*" &&
      one([for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s.Resource if s.Sid == "ReadInputsAndModels"]) == ["arn:aws:s3:::test-models/batch/input/*", "arn:aws:s3:::test-models/models/*"]
    )
    error_message = "The task may write only the output prefix and read only inputs and models."
  }

  assert {
    condition = (
      one([for s in jsondecode(aws_iam_role_policy.machine.policy).Statement : s.Resource if s.Sid == "RunBatchTask"]) == "arn:aws:ecs:eu-west-1:123456789012:task-definition/test-batch:*" &&
      one([for s in jsondecode(aws_iam_role_policy.machine.policy).Statement : s.Condition.ArnEquals["ecs:cluster"] if s.Sid == "RunBatchTask"]) == "arn:aws:ecs:eu-west-1:123456789012:cluster/test" &&
      one([for s in jsondecode(aws_iam_role_policy.machine.policy).Statement : s.Condition.StringEquals["iam:PassedToService"] if s.Sid == "PassTaskRoles"]) == "ecs-tasks.amazonaws.com" &&
      one([for s in jsondecode(aws_iam_role_policy.machine.policy).Statement : s.Resource if s.Sid == "RunChildExecutions"]) == "arn:aws:states:eu-west-1:123456789012:stateMachine:test-batch"
    )
    error_message = "The state machine may run only this task family in this cluster, pass only its roles and start only itself."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.machine.policy).Statement : s if contains(flatten([s.Resource]), "*") && s.Sid != "DeliverLogs"]) == 0
    error_message = "Only log delivery (which has no resource scoping) may use Resource \"*\"."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.events.policy).Statement[0].Resource == "arn:aws:states:eu-west-1:123456789012:stateMachine:test-batch"
    error_message = "EventBridge may start only this state machine."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem
    error_message = "The batch container runs with a read-only root (outputs are staged in /tmp)."
  }
}
