"""Bad input for issue 15's sections: refused before any request, naming the file, key path, expectation and find.

Same shape as tests/test_hostile_input.py (and its helpers): each case edits the repository's
desired state, then validate/plan/apply/drift/destroy exit 1, make no AWS call, print no traceback,
and the message names the key path. A managed policy name AWS does not list can only be known from
AWS: that one is refused at plan time with the same message shape (and no mutating call).
"""

from __future__ import annotations

import copy
import re

import pytest

from tests.test_hostile_input import BASE, dumps

DELETE = object()


def edits(*changes: tuple[str, object]) -> dict:
    """A copy of the valid desired state with each key path set (``a.b.0.c``) or deleted (DELETE)."""
    data = copy.deepcopy(BASE)
    for path, value in changes:
        *parents, last = path.split(".")
        cur = data
        for p in parents:
            cur = cur[int(p)] if isinstance(cur, list) else cur.setdefault(p, {})
        key = int(last) if isinstance(cur, list) else last
        if value is DELETE:
            del cur[key]
        else:
            cur[key] = value
    return data


def rhp(**kw) -> dict:
    return {"policy": "custom", "name": "slurm-factory-cors", **kw}


CORS = {"allow_headers": ["*"], "allow_methods": ["GET", "HEAD"], "allow_origins": ["*"]}
S3_ALARM = (("alarms.alarm.0.namespace", "AWS/S3"), ("alarms.alarm.0.metric", "5xxErrors"),
            ("alarms.alarm.0.statistic", "Sum"))

# (id, changes, key path the message must name, fragment of the expectation)
CASES = [
    # S3 CORS
    ("CORS rule with no methods", [("s3.buildcache.cors", [{"allowed_methods": [], "allowed_origins": ["*"]}])],
     "s3.buildcache.cors[0].allowed_methods", "with at least 1 entries"),
    ("CORS rule with OPTIONS", [("s3.buildcache.cors", [{"allowed_methods": ["GET", "OPTIONS"], "allowed_origins": ["*"]}])],
     "s3.buildcache.cors[0].allowed_methods[1]", "S3 answers OPTIONS preflights itself"),
    ("CORS rule with a lower-case method", [("s3.buildcache.cors", [{"allowed_methods": ["get"], "allowed_origins": ["*"]}])],
     "s3.buildcache.cors[0].allowed_methods[0]", "one of 'GET'"),
    ("CORS rule with no origins", [("s3.buildcache.cors", [{"allowed_methods": ["GET"]}])],
     "s3.buildcache.cors[0].allowed_origins", "the key is required"),
    ("CORS rule with an unknown key", [("s3.buildcache.cors", [{"allowed_methods": ["GET"], "allowed_origins": ["*"],
                                                                "methods": ["GET"]}])],
     "s3.buildcache.cors[0].methods", "known keys"),
    ("CORS negative max age", [("s3.buildcache.cors", [{"allowed_methods": ["GET"], "allowed_origins": ["*"],
                                                        "max_age_seconds": -1}])],
     "s3.buildcache.cors[0].max_age_seconds", "an integer between 0"),
    ("request metrics id with a space", [("s3.buildcache.request_metrics", "Entire Bucket")],
     "s3.buildcache.request_metrics", "metrics configuration id"),
    # response headers policy
    ("HSTS max-age below one day", [("cdn.response_headers", rhp(security={"hsts_max_age": 3600}))],
     "cdn.response_headers.security.hsts_max_age", "at least 86400 seconds"),
    ("CORS credentials with origin *", [("cdn.response_headers", rhp(cors={**CORS, "allow_credentials": True}))],
     "cdn.response_headers.cors.allow_origins", "browsers reject a credentialed response"),
    ("response headers policy adding nothing", [("cdn.response_headers", rhp())], "cdn.response_headers.cors",
     "adds no header does nothing"),
    ("response headers CORS method unknown", [("cdn.response_headers", rhp(cors={**CORS, "allow_methods": ["FETCH"]}))],
     "cdn.response_headers.cors.allow_methods[0]", "one of 'GET'"),
    ("frame option not DENY/SAMEORIGIN", [("cdn.response_headers", rhp(security={"frame_options": "ALLOW-FROM"}))],
     "cdn.response_headers.security.frame_options", "one of 'DENY'"),
    ("preload without HSTS max-age", [("cdn.response_headers", rhp(security={"hsts_preload": True}))],
     "cdn.response_headers.security.hsts_max_age", "a max-age for the Strict-Transport-Security header"),
    ("managed response headers policy with settings", [("cdn.response_headers", {
        "policy": "managed", "name": "Managed-SimpleCORS", "cors": CORS})],
     "cdn.response_headers.cors", "no settings for a managed policy"),
    ("policy name with spaces", [("cdn.response_headers", rhp(name="my policy", cors=CORS))],
     "cdn.response_headers.name", "CloudFront policy name"),
    ("comment leaving no room for provision's marker", [("cdn.cache.comment", "x" * 120)], "cdn.cache.comment",
     "provision appends ' (provision:slurm-factory)'"),
    # origin request policy and cache key
    ("origin request policy beside legacy cache settings", [
        ("cdn.cache.policy", "legacy"), ("cdn.cache.brotli", False),
        ("cdn.origin_request", {"policy": "managed", "name": "Managed-CORS-S3Origin"})],
     "cdn.origin_request", "only beside a cache policy"),
    ("managed origin request policy with settings", [("cdn.origin_request", {
        "policy": "managed", "name": "Managed-CORS-S3Origin", "headers": ["Origin"]})],
     "cdn.origin_request.headers", "no settings for a managed policy"),
    ("origin request header behaviour unknown", [("cdn.origin_request", {"policy": "custom", "name": "o",
                                                                         "headers": "everything"})],
     "cdn.origin_request.headers", "one of 'none'"),
    ("cache key header with a space", [("cdn.cache.headers", ["Accept Language"])], "cdn.cache.headers[0]",
     "an HTTP header name"),
    ("legacy cache settings with a header in the key", [("cdn.cache.policy", "legacy"), ("cdn.cache.brotli", False),
                                                        ("cdn.cache.headers", ["Accept"])],
     "cdn.cache.headers", "only a cache policy has them"),
    # alarms: dimension sets that do not fit the namespace
    ("S3 request metric with CloudFront's dimensions", [*S3_ALARM, ("alarms.alarm.0.dimensions", {"DistributionId": "E1"})],
     "alarms.alarm[0].dimensions", "the dimension set {BucketName, FilterId}"),
    ("CloudFront alarm with declared dimensions", [("alarms.alarm.0.dimensions", {"Region": "Global"})],
     "alarms.alarm[0].dimensions", "no dimensions for AWS/CloudFront"),
    ("S3 request metric on a filter that does not exist", [*S3_ALARM, ("alarms.alarm.0.dimensions", {
        "BucketName": "slurm-factory-spack-buildcache-4b670", "FilterId": "Docs"})],
     "alarms.alarm[0].dimensions.FilterId", "'EntireBucket'"),
    ("S3 request metric without a metrics configuration", [*S3_ALARM, ("s3.buildcache.request_metrics", DELETE),
                                                           ("dashboard.s3", False)],
     "alarms.alarm[0].metric", "s3.buildcache.request_metrics set"),
    ("S3 alarm on a bucket of another stack", [*S3_ALARM, ("alarms.alarm.0.dimensions", {
        "BucketName": "someone-elses-bucket", "FilterId": "EntireBucket"})],
     "alarms.alarm[0].dimensions.BucketName", "a bucket of this stack"),
    ("storage metric every 5 minutes", [("alarms.alarm.0.namespace", "AWS/S3"), ("alarms.alarm.0.metric", "BucketSizeBytes")],
     "alarms.alarm[0].period", "a multiple of 86400"),
    ("object count by a storage class", [("alarms.alarm.0.namespace", "AWS/S3"), ("alarms.alarm.0.metric", "NumberOfObjects"),
                                         ("alarms.alarm.0.period", 86400), ("alarms.alarm.0.evaluation_periods", 1),
                                         ("alarms.alarm.0.dimensions", {"BucketName": "slurm-factory-spack-buildcache-4b670",
                                                                        "StorageType": "StandardStorage"})],
     "alarms.alarm[0].dimensions.StorageType", "one of AllStorageTypes"),
    ("unknown S3 metric", [("alarms.alarm.0.namespace", "AWS/S3"), ("alarms.alarm.0.metric", "Downloads")],
     "alarms.alarm[0].metric", "an AWS/S3 metric"),
    ("drift alarm on another stack", [("alarms.alarm.2.dimensions", {"Stack": "other-stack"})],
     "alarms.alarm[2].dimensions.Stack", "'slurm-factory'"),
    ("drift alarm on another metric", [("alarms.alarm.2.metric", "Drift")], "alarms.alarm[2].metric",
     "'DriftedResources'"),
    ("S3 alarm in a stack outside us-east-1", [*S3_ALARM, ("stack.region", "eu-west-1")], "alarms.alarm[0].namespace",
     "S3 publishes in eu-west-1"),
    ("unknown namespace", [("alarms.alarm.0.namespace", "AWS/Lambda")], "alarms.alarm[0].namespace", "one of"),
    # dashboard
    ("dashboard naming an alarm the file does not define", [("dashboard.alarms", ["slurm-factory-nope"])],
     "dashboard.alarms[0]", "the name of an [[alarms.alarm]] of this file"),
    ("dashboard S3 graphs without request metrics", [("s3.buildcache.request_metrics", DELETE)], "dashboard.s3",
     "S3 publishes only for a bucket metrics configuration"),
    ("dashboard name with a space", [("dashboard.name", "slurm factory")], "dashboard.name", "a dashboard name"),
    ("dashboard period not offered", [("dashboard.period", 120)], "dashboard.period", "one of 60, 300"),
    # audit trail
    ("audit prefix colliding with the CloudFront log prefix", [("audit.prefix", "cloudfront")], "audit.prefix",
     "does not overlap cdn.logging.prefix ('cloudfront/')"),
    ("audit prefix under the CloudFront log prefix", [("audit.prefix", "cloudfront/trail")], "audit.prefix",
     "does not overlap"),
    ("audit prefix with a trailing slash", [("audit.prefix", "cloudtrail/")], "audit.prefix",
     "without a leading or trailing '/'"),
    ("trail name starting with a dash", [("audit.trail", "-publish")], "audit.trail", "a trail name"),
    ("audit trail without a log bucket", [("s3.logs", DELETE)], "audit", "an [s3.logs] bucket"),
    ("CloudFront logging without a log bucket", [("s3.logs", DELETE), ("audit", DELETE)], "cdn.logging.enabled",
     "false when there is no [s3.logs] bucket"),
    ("output naming a section the file leaves out", [("dashboard", DELETE)], "outputs.DashboardUrl",
     "[dashboard] is not declared"),
]


def test_corpus_covers_every_new_section():
    ids = " ".join(c[0] for c in CASES).lower()
    for kind in ("cors", "hsts", "credentials", "managed", "dimension", "dashboard", "audit prefix", "log bucket"):
        assert kind in ids, kind
    assert len(CASES) >= 40


@pytest.mark.parametrize("name,changes,named,expect", CASES, ids=[c[0] for c in CASES])
def test_bad_issue15_input_is_refused_before_any_request(cli, desired_file, name, changes, named, expect):
    desired_file.write_text(dumps(edits(*changes)))
    for args in (("validate",), ("plan",), ("apply", "--auto-approve"), ("drift",), ("destroy", "--force")):
        r = cli(*args)
        assert r.code == 1, (args, r.output)
        assert r.calls == [], f"{args[0]} made AWS calls on bad input: {r.calls}"
        assert "Traceback" not in r.output
        assert re.search(rf"{re.escape(str(desired_file))}: {re.escape(named)}(?=[:\s])", r.output), r.output
        assert expect in r.output, r.output


@pytest.mark.parametrize("section,name", [("origin_request", "Managed-CORS-S3-Origin"),
                                          ("response_headers", "Managed-NoSuchPolicy")])
def test_managed_policy_name_aws_does_not_list_is_refused_at_plan_time(aws_env, cli, desired_file, section, name):
    desired_file.write_text(dumps(edits((f"cdn.{section}", {"policy": "managed", "name": name}))))
    assert cli("validate").code == 0  # only AWS knows its managed policies
    for args in (("plan",), ("apply", "--auto-approve"), ("drift",)):
        r = cli(*args)
        assert r.code == 1, (args, r.output)
        assert r.mutating == [], r.mutating
        assert "Traceback" not in r.output
        assert f"{desired_file}: cdn.{section}.name: expected the name of a managed" in r.output, r.output
        assert "AWS lists 'Managed-" in r.output and repr(name) in r.output, r.output
