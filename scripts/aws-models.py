#!/usr/bin/env python3
"""Writes the trimmed AWS service models the collector reads responses with.

For each service, the shapes reachable from the output of the operations the collector calls,
taken from botocore's own model (Apache-2.0), trimmed to what decoding a response needs: each
structure's members with their shape and XML name (and whether it is an attribute, such as
S3's `xsi:type` of a grantee), each list's member and whether it is flattened, each scalar's
type. For rest-xml services (S3), an operation's `payload`: the output member the whole body
is (its root element, or the raw text of a string or blob). Output members read from headers
or the status code are left out: nothing the collector maps comes from them. Run with the
botocore whose version the files name:

    python3 scripts/aws-models.py           # rewrites src/collector/aws/models/*.json
    python3 scripts/aws-models.py iam ...   # rewrites only the services named
"""
import json
import os
import sys

import botocore
from botocore.loaders import Loader

OPERATIONS = {
    "ec2": [
        "DescribeSecurityGroups",
        "DescribeInstances",
        "DescribeVpcs",
        "DescribeSubnets",
        "RevokeSecurityGroupIngress",
    ],
    "sts": ["GetCallerIdentity"],
    "s3": [
        "ListBuckets",
        "GetBucketLocation",
        "GetBucketAcl",
        "GetBucketPolicy",
        "GetBucketPolicyStatus",
        "GetPublicAccessBlock",
        "GetBucketEncryption",
        "GetBucketVersioning",
        "GetBucketLogging",
        "GetBucketTagging",
        "GetBucketOwnershipControls",
        "GetBucketLifecycleConfiguration",
    ],
    "s3control": ["GetPublicAccessBlock"],
    "iam": [
        "ListUsers",
        "GetUser",
        "ListMFADevices",
        "ListAccessKeys",
        "GetLoginProfile",
        "ListAttachedUserPolicies",
        "ListUserPolicies",
        "GetUserPolicy",
        "ListGroupsForUser",
        "ListRoles",
        "GetRole",
        "ListAttachedRolePolicies",
        "ListRolePolicies",
        "GetRolePolicy",
        "ListInstanceProfilesForRole",
        "ListPolicies",
        "GetPolicy",
        "GetPolicyVersion",
        "ListEntitiesForPolicy",
    ],
    "cloudtrail": ["DescribeTrails", "GetTrailStatus", "GetEventSelectors", "ListTags"],
}

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "collector", "aws", "models")


def trim(shape):
    out = {"type": shape["type"]}
    if shape["type"] == "structure":
        out["members"] = {}
        for name, member in shape.get("members", {}).items():
            if member.get("location") in ("header", "headers", "statusCode"):
                continue
            m = {"shape": member["shape"]}
            if "locationName" in member:
                m["locationName"] = member["locationName"]
            if member.get("flattened"):
                m["flattened"] = True
            if member.get("xmlAttribute"):
                m["xmlAttribute"] = True
            out["members"][name] = m
    elif shape["type"] == "list":
        member = shape["member"]
        out["member"] = {"shape": member["shape"]}
        if "locationName" in member:
            out["member"]["locationName"] = member["locationName"]
        if shape.get("flattened"):
            out["flattened"] = True
    elif shape["type"] == "map":
        for part in ("key", "value"):
            out[part] = {"shape": shape[part]["shape"]}
            if "locationName" in shape[part]:
                out[part]["locationName"] = shape[part]["locationName"]
        if shape.get("flattened"):
            out["flattened"] = True
    return out


def main():
    loader = Loader()
    wanted = sys.argv[1:] or list(OPERATIONS)
    for service in wanted:
        operations = OPERATIONS[service]
        model = loader.load_service_model(service, "service-2")
        shapes = model["shapes"]
        kept, todo, ops = {}, [], {}
        for op in operations:
            output = model["operations"][op].get("output")
            ops[op] = {"output": output["shape"] if output else None}
            if output:
                todo.append(output["shape"])
                if "resultWrapper" in output:
                    ops[op]["resultWrapper"] = output["resultWrapper"]
                if "payload" in shapes[output["shape"]]:
                    ops[op]["payload"] = shapes[output["shape"]]["payload"]
        while todo:
            name = todo.pop()
            if name in kept:
                continue
            kept[name] = trim(shapes[name])
            for ref in list(kept[name].get("members", {}).values()) + [
                kept[name].get(k) for k in ("member", "key", "value") if k in kept[name]
            ]:
                todo.append(ref["shape"])
        doc = {
            "source": f"botocore {botocore.__version__}, data/{service} (Apache-2.0), trimmed by scripts/aws-models.py",
            "protocol": model["metadata"]["protocol"],
            "apiVersion": model["metadata"]["apiVersion"],
            "operations": ops,
            "shapes": dict(sorted(kept.items())),
        }
        with open(os.path.join(OUT, f"{service}.json"), "w") as f:
            json.dump(doc, f, indent=1, sort_keys=False)
            f.write("\n")


if __name__ == "__main__":
    main()
