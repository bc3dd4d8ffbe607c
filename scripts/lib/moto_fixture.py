"""Fixtures and state dumps for scripts/test-scripts.sh, against moto (AWS_ENDPOINT_URL).

Usage: moto_fixture.py setup  -> creates what Terraform would have made; prints names as JSON
       moto_fixture.py dump   -> prints the state the tests assert on as JSON
One boto3 process instead of dozens of `aws` CLI starts keeps the test fast.
"""

import io
import json
import sys
import tarfile

import boto3

REGION = "eu-west-1"
NAME = "ml-serve-ecs-dev"
MODELS_BUCKET = "models-test"
OWNED_BUCKET = f"{NAME}-models"
STATE_BUCKET = "ml-serve-ecs-tfstate"
SHA = "a1b2c3d" * 5 + "a1b2c"
FAKE_MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
               "digest": "sha256:" + "f" * 64},
    "layers": [],
})


def client(name):
    return boto3.client(name, region_name=REGION)


def bucket(s3, name, versioned=False):
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def setup():
    s3, ecr, ecs = client("s3"), client("ecr"), client("ecs")
    bucket(s3, MODELS_BUCKET)

    # The environment destroy.sh empties: versioned, several versions, a delete marker.
    bucket(s3, OWNED_BUCKET, versioned=True)
    for i in range(3):
        s3.put_object(Bucket=OWNED_BUCKET, Key="models/m/1/saved_model.pb", Body=f"v{i}".encode())
    s3.put_object(Bucket=OWNED_BUCKET, Key="capture/a.jsonl", Body=b"x")
    s3.delete_object(Bucket=OWNED_BUCKET, Key="capture/a.jsonl")
    bucket(s3, STATE_BUCKET, versioned=True)
    s3.put_object(Bucket=STATE_BUCKET, Key="ml-serve-ecs/dev/terraform.tfstate", Body=b"{}")

    repo_url = ecr.create_repository(repositoryName=NAME)["repository"]["repositoryUri"]
    ecr.put_image(repositoryName=NAME, imageTag=SHA, imageManifest=FAKE_MANIFEST)

    ecs.create_cluster(clusterName=NAME)
    ecs.register_task_definition(
        family=NAME, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="1024", memory="2048",
        tags=[{"key": "Project", "value": "ml-serve-ecs"}],
        containerDefinitions=[
            {"name": "app", "image": f"{repo_url}:0000000", "essential": True,
             "environment": [{"name": "MODEL_BASE_PATH", "value": f"s3://{MODELS_BUCKET}/models"}],
             "portMappings": [{"containerPort": 8080}]},
            {"name": "sidecar", "image": "public.ecr.aws/example/sidecar:1", "essential": False},
        ])
    ecs.create_service(cluster=NAME, serviceName=NAME, taskDefinition=NAME, desiredCount=1, launchType="FARGATE")
    print(json.dumps({"repo_url": repo_url, "sha": SHA, "name": NAME, "models_bucket": MODELS_BUCKET,
                      "owned_bucket": OWNED_BUCKET, "state_bucket": STATE_BUCKET}))


def dump():
    s3, ecr, ecs = client("s3"), client("ecr"), client("ecs")
    state = {"buckets": {}, "images": [], "tar": {}}
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        versions = s3.list_object_versions(Bucket=name)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
        state["buckets"][name] = {
            "keys": sorted(keys),
            "versions": len(versions.get("Versions", [])) + len(versions.get("DeleteMarkers", [])),
        }
        for key in keys:
            if key.endswith(".tar.gz"):
                body = s3.get_object(Bucket=name, Key=key)["Body"].read()
                with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
                    state["tar"][f"{name}/{key}"] = sorted(archive.getnames())
    try:
        state["images"] = [i.get("imageTag") for i in ecr.list_images(repositoryName=NAME)["imageIds"]]
    except ecr.exceptions.RepositoryNotFoundException:
        state["images"] = None
    try:
        td = ecs.describe_task_definition(taskDefinition=NAME, include=["TAGS"])
        state["task_definition"] = {"revision": td["taskDefinition"]["revision"],
                                    "containers": td["taskDefinition"]["containerDefinitions"],
                                    "cpu": td["taskDefinition"].get("cpu"),
                                    "memory": td["taskDefinition"].get("memory"),
                                    "tags": td.get("tags", [])}
        state["service_task_definition"] = ecs.describe_services(cluster=NAME, services=[NAME])[
            "services"][0]["taskDefinition"]
    except Exception:  # noqa: BLE001 - not set up yet, or deregistered by destroy.sh
        pass
    state["active_revisions"] = len(ecs.list_task_definitions(familyPrefix=NAME, status="ACTIVE")["taskDefinitionArns"])
    print(json.dumps(state, default=str))


if __name__ == "__main__":
    {"setup": setup, "dump": dump}[sys.argv[1]]()
