# The state machine (Amazon States Language, JSONPath). Input: {"key": "<input_prefix>/<job>/_READY"}
# from the EventBridge rule or a manual start (scripts/batch-score.sh).
#
#   JobId → JobPaths → Plan (task) → PlanOk? → Score (Distributed Map over _plan.json:
#   one task per part, retried, bounded concurrency) → Merge (task; publishes the
#   job's summary to SNS) → MergeOk? → ReadManifest → Outcome (Choice on the manifest)
#   Any failure or timeout → FailureMessage → NotifyFailure (sns:publish) → Failed.
#
# A task state only fails when ECS cannot run the task; a container that exits
# non-zero is caught by the Choice on its exit code.

locals {
  network = {
    AwsvpcConfiguration = {
      Subnets        = var.subnet_ids
      SecurityGroups = [aws_security_group.tasks.id]
      AssignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED"
    }
  }

  task_retry = [{
    ErrorEquals     = ["ECS.AmazonECSException", "States.TaskFailed"]
    IntervalSeconds = 30
    MaxAttempts     = var.task_retries
    BackoffRate     = 2
    JitterStrategy  = "FULL"
  }]

  catch_all = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "FailureMessage" }]

  # One ECS task: the batch container with a step's command and environment.
  run_task = {
    LaunchType           = "FARGATE"
    Cluster              = var.cluster_arn
    TaskDefinition       = aws_ecs_task_definition.this.arn_without_revision
    NetworkConfiguration = local.network
    PropagateTags        = "TASK_DEFINITION"
  }

  exit_code = { "exit_code.$" = "$.Containers[0].ExitCode" }

  definition = {
    Comment = "Batch scoring of ${var.input_prefix}/<job>/ into ${var.output_prefix}/<job>/"
    StartAt = "JobId"
    States = {
      JobId = {
        Type       = "Pass"
        Parameters = { "id.$" = "States.ArrayGetItem(States.StringSplit($.key, '/'), ${local.job_key_index})" }
        ResultPath = "$.job"
        Next       = "JobPaths"
      }
      JobPaths = {
        Type = "Pass"
        Parameters = {
          "id.$"           = "$.job.id"
          "input_uri.$"    = "States.Format('s3://${var.bucket_name}/${var.input_prefix}/{}/', $.job.id)"
          "output_uri.$"   = "States.Format('s3://${var.bucket_name}/${var.output_prefix}/{}/', $.job.id)"
          "plan_key.$"     = "States.Format('${var.output_prefix}/{}/_plan.json', $.job.id)"
          "manifest_key.$" = "States.Format('${var.output_prefix}/{}/_SUCCESS', $.job.id)"
        }
        ResultPath = "$.job"
        Next       = "Plan"
      }
      Plan = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::ecs:runTask.sync"
        Parameters = merge(local.run_task, {
          Overrides = {
            ContainerOverrides = [{
              Name    = local.container
              Command = ["batch", "plan"]
              Environment = [
                { Name = "BATCH_INPUT_URI", "Value.$" = "$.job.input_uri" },
                { Name = "BATCH_OUTPUT_URI", "Value.$" = "$.job.output_uri" },
              ]
            }]
          }
        })
        TimeoutSeconds = var.step_timeout_seconds
        ResultSelector = local.exit_code
        ResultPath     = "$.plan"
        Retry          = local.task_retry
        Catch          = local.catch_all
        Next           = "PlanOk"
      }
      PlanOk = {
        Type    = "Choice"
        Choices = [{ Variable = "$.plan.exit_code", NumericEquals = 0, Next = "Score" }]
        Default = "PlanFailed"
      }
      PlanFailed = {
        Type       = "Pass"
        Parameters = { Error = "Batch.PlanFailed", Cause = "the plan task exited non-zero (no input files, unknown model, bad settings); see its log" }
        ResultPath = "$.error"
        Next       = "FailureMessage"
      }
      Score = {
        Type = "Map"
        ItemReader = {
          Resource     = "arn:${local.partition}:states:::s3:getObject"
          ReaderConfig = { InputType = "JSON" }
          Parameters   = { Bucket = var.bucket_name, "Key.$" = "$.job.plan_key" }
        }
        ItemSelector = {
          "item.$"       = "$$.Map.Item.Value"
          "output_uri.$" = "$.job.output_uri"
        }
        ItemProcessor = {
          ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" }
          StartAt         = "ScorePart"
          States = {
            ScorePart = {
              Type     = "Task"
              Resource = "arn:${local.partition}:states:::ecs:runTask.sync"
              Parameters = merge(local.run_task, {
                Overrides = {
                  ContainerOverrides = [{
                    Name    = local.container
                    Command = ["batch", "score"]
                    Environment = [
                      { Name = "BATCH_PART", "Value.$" = "$.item.part" },
                      { Name = "BATCH_INPUT_URI", "Value.$" = "$.item.input_uri" },
                      { Name = "BATCH_BYTE_RANGE", "Value.$" = "$.item.byte_range" },
                      { Name = "BATCH_INPUT_FORMAT", "Value.$" = "$.item.format" },
                      { Name = "BATCH_MODEL", "Value.$" = "$.item.model" },
                      { Name = "BATCH_MODEL_VERSION", "Value.$" = "States.Format('{}', $.item.model_version)" },
                      { Name = "BATCH_OUTPUT_URI", "Value.$" = "$.output_uri" },
                    ]
                  }]
                }
              })
              TimeoutSeconds = var.part_timeout_seconds
              ResultSelector = local.exit_code
              Retry          = local.task_retry
              Next           = "PartOk"
            }
            PartOk = {
              Type    = "Choice"
              Choices = [{ Variable = "$.exit_code", NumericEquals = 0, Next = "PartDone" }]
              Default = "PartFailed"
            }
            PartDone = { Type = "Succeed" }
            PartFailed = {
              Type  = "Fail"
              Error = "Batch.PartFailed"
              Cause = "the scoring task exited non-zero; see its log"
            }
          }
        }
        MaxConcurrency             = var.max_concurrency
        ToleratedFailurePercentage = var.tolerated_failure_percentage
        ResultPath                 = null
        Catch                      = local.catch_all
        Next                       = "Merge"
      }
      Merge = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::ecs:runTask.sync"
        Parameters = merge(local.run_task, {
          Overrides = {
            ContainerOverrides = [{
              Name        = local.container
              Command     = ["batch", "merge"]
              Environment = [{ Name = "BATCH_OUTPUT_URI", "Value.$" = "$.job.output_uri" }]
            }]
          }
        })
        TimeoutSeconds = var.step_timeout_seconds
        ResultSelector = local.exit_code
        ResultPath     = "$.merge"
        Retry          = local.task_retry
        Catch          = local.catch_all
        Next           = "MergeOk"
      }
      MergeOk = {
        Type    = "Choice"
        Choices = [{ Variable = "$.merge.exit_code", NumericEquals = 0, Next = "ReadManifest" }]
        Default = "MergeFailed"
      }
      MergeFailed = {
        Type       = "Pass"
        Parameters = { Error = "Batch.MergeFailed", Cause = "the merge task exited non-zero (a part missing?); no manifest was written" }
        ResultPath = "$.error"
        Next       = "FailureMessage"
      }
      ReadManifest = {
        Type           = "Task"
        Resource       = "arn:${local.partition}:states:::aws-sdk:s3:getObject"
        Parameters     = { Bucket = var.bucket_name, "Key.$" = "$.job.manifest_key" }
        ResultSelector = { "manifest.$" = "States.StringToJson($.Body)" }
        ResultPath     = "$.result"
        Catch          = local.catch_all
        Next           = "Outcome"
      }
      # The merge step has published the job's summary; this only sets the
      # execution's status, so failed rows show (and alarm) as a failed execution.
      Outcome = {
        Type = "Choice"
        Choices = [
          { Variable = "$.result.manifest.counts.failed_rows", NumericGreaterThan = 0, Next = "RowsFailed" },
          { Variable = "$.result.manifest.counts.low_confidence_rows", NumericGreaterThan = 0, Next = "LowConfidence" },
        ]
        Default = "Succeeded"
      }
      RowsFailed = {
        Type  = "Fail"
        Error = "Batch.RowsFailed"
        Cause = "some rows could not be scored; the manifest lists them and errors.jsonl has them all"
      }
      LowConfidence = { Type = "Succeed" }
      Succeeded     = { Type = "Succeed" }
      FailureMessage = {
        Type = "Pass"
        Parameters = {
          "job.$"       = "$.job.id"
          outcome       = "failed"
          model         = coalesce(var.model_name, "unknown")
          "error.$"     = "$.error.Error"
          "cause.$"     = "$.error.Cause"
          "execution.$" = "$$.Execution.Id"
          "output.$"    = "$.job.output_uri"
        }
        ResultPath = "$.failure"
        Next       = "NotifyFailure"
      }
      NotifyFailure = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::sns:publish"
        Parameters = {
          TopicArn    = aws_sns_topic.this.arn
          "Subject.$" = "States.Format('batch {}: failed', $.failure.job)"
          "Message.$" = "States.JsonToString($.failure)"
          MessageAttributes = {
            model   = { DataType = "String", StringValue = coalesce(var.model_name, "unknown") }
            outcome = { DataType = "String", StringValue = "failed" }
          }
        }
        Retry      = [{ ErrorEquals = ["States.ALL"], IntervalSeconds = 5, MaxAttempts = 3, BackoffRate = 2 }]
        ResultPath = null
        Next       = "Failed"
      }
      Failed = {
        Type      = "Fail"
        ErrorPath = "$.failure.error"
        CausePath = "$.failure.cause"
      }
    }
  }
}
