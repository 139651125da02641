"""Tests for provisioner.policy: canonical form, equivalence, diff, parse."""

from __future__ import annotations

import copy
import json
import urllib.parse

import pytest

from provisioner.policy import (
    PolicyError,
    canonical,
    diff,
    dumps,
    equivalent,
    parse,
)

ACCOUNT = "123456789012"
BUCKET = "arn:aws:s3:::slurm-factory-buildcache"
OAI_ARN = (
    "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"
)
OAI_CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
GH_OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def trust_policy(sub="repo:org/repo:*", **extra):
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubOIDC",
                "Effect": "Allow",
                "Principal": {"Federated": GH_OIDC},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                    },
                    "StringLike": {"token.actions.githubusercontent.com:sub": sub},
                },
            }
        ],
    }
    doc.update(extra)
    return doc


def publish_policy():
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowPublish",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": f"{BUCKET}/*",
            },
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": BUCKET,
            },
        ],
    }


def bucket_policy():
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudFrontRead",
                "Effect": "Allow",
                "Principal": {"AWS": OAI_ARN},
                "Action": "s3:GetObject",
                "Resource": f"{BUCKET}/*",
            },
            {
                "Sid": "DenyInsecure",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [BUCKET, f"{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def url_encoded(doc) -> str:
    """What IAM GetRole/GetRolePolicy return."""
    return urllib.parse.quote(json.dumps(doc), safe="")


def modified(doc, fn):
    doc = copy.deepcopy(doc)
    fn(doc)
    return doc


def _set(path, value):
    def fn(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return fn


# ---------------------------------------------------------------------------
# Equivalent pairs: (id, a, b, principal_aliases)
# ---------------------------------------------------------------------------

EQUIVALENT = [
    (
        "reordered statements",
        publish_policy(),
        modified(publish_policy(), lambda d: d["Statement"].reverse()),
        None,
    ),
    (
        "reordered actions",
        publish_policy(),
        modified(publish_policy(), _set(["Statement", 0, "Action"], ["s3:GetObject", "s3:PutObject"])),
        None,
    ),
    (
        "string vs list Action",
        trust_policy(),
        modified(trust_policy(), _set(["Statement", 0, "Action"], ["sts:AssumeRoleWithWebIdentity"])),
        None,
    ),
    (
        "string vs list Resource",
        publish_policy(),
        modified(publish_policy(), _set(["Statement", 1, "Resource"], [BUCKET])),
        None,
    ),
    (
        "string vs list principal value",
        trust_policy(),
        modified(trust_policy(), _set(["Statement", 0, "Principal"], {"Federated": [GH_OIDC]})),
        None,
    ),
    (
        "string vs list condition value",
        trust_policy(),
        modified(
            trust_policy(),
            _set(
                ["Statement", 0, "Condition", "StringLike"],
                {"token.actions.githubusercontent.com:sub": ["repo:org/repo:*"]},
            ),
        ),
        None,
    ),
    ("dict vs URL-encoded (IAM GetRole)", trust_policy(), url_encoded(trust_policy()), None),
    ("dict vs JSON string (S3 get_bucket_policy)", bucket_policy(), json.dumps(bucket_policy()), None),
    (
        "JSON string vs URL-encoded, reordered",
        json.dumps(publish_policy(), indent=2),
        url_encoded(modified(publish_policy(), lambda d: d["Statement"].reverse())),
        None,
    ),
    (
        "missing vs present default Version",
        publish_policy(),
        modified(publish_policy(), lambda d: d.pop("Version")),
        None,
    ),
    (
        "duplicate actions",
        publish_policy(),
        modified(
            publish_policy(),
            _set(["Statement", 0, "Action"], ["s3:PutObject", "s3:GetObject", "s3:PutObject"]),
        ),
        None,
    ),
    (
        "action case",
        publish_policy(),
        modified(publish_policy(), _set(["Statement", 0, "Action"], ["s3:putobject", "S3:GETOBJECT"])),
        None,
    ),
    (
        "case-only duplicate actions",
        publish_policy(),
        modified(
            publish_policy(),
            _set(["Statement", 0, "Action"], ["s3:PutObject", "s3:putobject", "s3:GetObject"]),
        ),
        None,
    ),
    (
        "condition key case",
        bucket_policy(),
        modified(
            bucket_policy(),
            _set(["Statement", 1, "Condition"], {"Bool": {"AWS:securetransport": "false"}}),
        ),
        None,
    ),
    (
        "boolean vs string condition value",
        bucket_policy(),
        modified(
            bucket_policy(),
            _set(["Statement", 1, "Condition"], {"Bool": {"aws:SecureTransport": False}}),
        ),
        None,
    ),
    (
        "account id vs root ARN principal",
        {
            "Statement": {
                "Effect": "Allow",
                "Principal": {"AWS": ACCOUNT},
                "Action": "sts:AssumeRole",
            }
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
                    "Action": ["sts:AssumeRole"],
                }
            ],
        },
        None,
    ),
    (
        "single statement dict vs list",
        {"Version": "2012-10-17", "Statement": trust_policy()["Statement"][0]},
        trust_policy(),
        None,
    ),
    (
        "empty Sid vs none",
        modified(publish_policy(), _set(["Statement", 1, "Sid"], "")),
        publish_policy(),
        None,
    ),
    (
        "OAI canonical user alias",
        bucket_policy(),
        modified(
            bucket_policy(),
            _set(["Statement", 0, "Principal"], {"CanonicalUser": OAI_CANONICAL}),
        ),
        {OAI_CANONICAL: OAI_ARN},
    ),
    (
        "reordered resources and principal values",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::111111111111:root", ACCOUNT]},
                    "Action": "s3:GetObject",
                    "Resource": [f"{BUCKET}/b", f"{BUCKET}/a"],
                }
            ]
        },
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": [f"arn:aws:iam::{ACCOUNT}:root", "111111111111"]
                    },
                    "Action": "s3:GetObject",
                    "Resource": [f"{BUCKET}/a", f"{BUCKET}/b"],
                }
            ]
        },
        None,
    ),
    (
        "2008-10-17 kept on both sides",
        modified(bucket_policy(), _set(["Version"], "2008-10-17")),
        json.dumps(modified(bucket_policy(), _set(["Version"], "2008-10-17"))),
        None,
    ),
    (
        "empty Condition vs none",
        modified(publish_policy(), _set(["Statement", 1, "Condition"], {})),
        publish_policy(),
        None,
    ),
]


@pytest.mark.parametrize(
    "a, b, aliases", [case[1:] for case in EQUIVALENT], ids=[case[0] for case in EQUIVALENT]
)
def test_equivalent_pairs(a, b, aliases):
    assert equivalent(a, b, aliases)
    assert equivalent(b, a, aliases)
    assert canonical(a, aliases) == canonical(b, aliases)
    assert dumps(a, aliases) == dumps(b, aliases)
    assert diff(a, b, aliases) == []
    assert diff(b, a, aliases) == []


def test_equivalent_table_is_big_enough():
    assert len(EQUIVALENT) >= 15


# ---------------------------------------------------------------------------
# Non-equivalent pairs: (id, desired, live, fragments expected in diff output)
# ---------------------------------------------------------------------------

DIFFERENT = [
    (
        "sub widened to *",
        trust_policy(),
        trust_policy(sub="*"),
        [
            'Statement[Sid=GitHubOIDC].Condition.StringLike.'
            'token.actions.githubusercontent.com:sub: ["*"] -> ["repo:org/repo:*"]'
        ],
    ),
    (
        "action added",
        modified(
            publish_policy(),
            _set(["Statement", 0, "Action"], ["s3:PutObject", "s3:GetObject", "s3:PutObjectAcl"]),
        ),
        publish_policy(),
        ["Statement[Sid=AllowPublish].Action: + s3:putobjectacl"],
    ),
    (
        "action removed",
        publish_policy(),
        modified(
            publish_policy(),
            _set(["Statement", 0, "Action"], ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]),
        ),
        ["Statement[Sid=AllowPublish].Action: - s3:deleteobject"],
    ),
    (
        "Effect flipped",
        bucket_policy(),
        modified(bucket_policy(), _set(["Statement", 1, "Effect"], "Allow")),
        ["Statement[Sid=DenyInsecure].Effect: Allow -> Deny"],
    ),
    (
        "Effect flipped without Sid",
        {"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}},
        {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
        ["Statement[0].Effect: Allow -> Deny"],
    ),
    (
        "resource changed",
        publish_policy(),
        modified(publish_policy(), _set(["Statement", 1, "Resource"], "arn:aws:s3:::other")),
        [f"Statement[1].Resource: + {BUCKET}", "Statement[1].Resource: - arn:aws:s3:::other"],
    ),
    (
        "condition operator StringLike vs StringEquals",
        trust_policy(),
        modified(
            trust_policy(),
            lambda d: d["Statement"][0]["Condition"].update(
                {"StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": "repo:org/repo:*",
                }}
            ) or d["Statement"][0]["Condition"].pop("StringLike"),
        ),
        [
            "Statement[Sid=GitHubOIDC].Condition.StringLike: (absent) -> ",
            "Statement[Sid=GitHubOIDC].Condition.StringEquals."
            'token.actions.githubusercontent.com:sub: ["repo:org/repo:*"] -> (absent)',
        ],
    ),
    (
        "Version changed",
        publish_policy(),
        modified(publish_policy(), _set(["Version"], "2008-10-17")),
        ["Version: 2008-10-17 -> 2012-10-17"],
    ),
    (
        "missing Version is not 2008",
        {"Statement": publish_policy()["Statement"]},
        modified(publish_policy(), _set(["Version"], "2008-10-17")),
        ["Version: 2008-10-17 -> 2012-10-17"],
    ),
    (
        "extra statement in live",
        publish_policy(),
        modified(
            publish_policy(),
            lambda d: d["Statement"].append(
                {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"{BUCKET}/*"}
            ),
        ),
        ["Statement[2]: unexpected", "s3:deleteobject"],
    ),
    (
        "statement missing from live",
        modified(
            publish_policy(),
            lambda d: d["Statement"].append(
                {"Sid": "AllowDelete", "Effect": "Allow", "Action": "s3:DeleteObject",
                 "Resource": f"{BUCKET}/*"}
            ),
        ),
        publish_policy(),
        ["Statement[Sid=AllowDelete]: missing"],
    ),
    (
        "principal changed",
        bucket_policy(),
        modified(
            bucket_policy(),
            _set(["Statement", 0, "Principal"], {"AWS": "arn:aws:iam::999999999999:root"}),
        ),
        [
            f"Statement[Sid=CloudFrontRead].Principal.AWS: + {OAI_ARN}",
            "Statement[Sid=CloudFrontRead].Principal.AWS: - arn:aws:iam::999999999999:root",
        ],
    ),
    (
        "principal * vs AWS type",
        bucket_policy(),
        modified(bucket_policy(), _set(["Statement", 1, "Principal"], {"AWS": "*"})),
        ['Statement[Sid=DenyInsecure].Principal: {"AWS":["*"]} -> "*"'],
    ),
    (
        "OAI canonical user without alias",
        bucket_policy(),
        modified(
            bucket_policy(),
            _set(["Statement", 0, "Principal"], {"CanonicalUser": OAI_CANONICAL}),
        ),
        ["Statement[Sid=CloudFrontRead].Principal.AWS: (absent) -> ",
         "Statement[Sid=CloudFrontRead].Principal.CanonicalUser: "],
    ),
    (
        "condition value case matters",
        trust_policy(),
        trust_policy(sub="repo:Org/Repo:*"),
        [":sub:"],
    ),
    (
        "resource case matters",
        publish_policy(),
        modified(publish_policy(), _set(["Statement", 1, "Resource"], BUCKET.upper())),
        ["Statement[1].Resource: - ARN:AWS:S3:::SLURM-FACTORY-BUILDCACHE"],
    ),
    (
        "Sid renamed",
        publish_policy(),
        modified(publish_policy(), _set(["Statement", 0, "Sid"], "Publish")),
        ["Statement[Sid=AllowPublish].Sid: Publish -> AllowPublish"],
    ),
]


@pytest.mark.parametrize(
    "desired, live, fragments",
    [case[1:] for case in DIFFERENT],
    ids=[case[0] for case in DIFFERENT],
)
def test_non_equivalent_pairs_are_diffed(desired, live, fragments):
    assert not equivalent(desired, live)
    assert canonical(desired) != canonical(live)
    assert dumps(desired) != dumps(live)
    lines = diff(desired, live)
    assert lines, "diff must not be empty for non-equivalent documents"
    text = "\n".join(lines)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in diff:\n{text}"
    # The reverse direction is non-empty too.
    assert diff(live, desired)


def test_non_equivalent_table_is_big_enough():
    assert len(DIFFERENT) >= 8


def test_diff_is_field_level_not_blobs():
    desired = publish_policy()
    live = modified(publish_policy(), _set(["Statement", 0, "Action"], "s3:PutObject"))
    assert diff(desired, live) == ["Statement[Sid=AllowPublish].Action: + s3:getobject"]


def test_diff_matches_statements_without_sid_by_effect_and_principal():
    desired = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
             "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": ["sts:AssumeRole", "sts:TagSession"]},
        ]
    }
    live = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
             "Action": "sts:AssumeRole"},
        ]
    }
    assert diff(desired, live) == ["Statement[1].Action: + sts:tagsession"]


def test_diff_reports_missing_and_unexpected_by_position():
    desired = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        ]
    }
    live = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"},
        ]
    }
    lines = diff(desired, live)
    assert len(lines) == 2
    assert lines[0].startswith("Statement[1]: missing ")
    assert "s3:deletebucket" in lines[0]
    assert lines[1].startswith("Statement[1]: unexpected ")
    assert "s3:putobject" in lines[1]


# ---------------------------------------------------------------------------
# canonical() shape
# ---------------------------------------------------------------------------


def test_canonical_shape():
    doc = {
        "Statement": {
            "Sid": "",
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT, "Service": ["b.amazonaws.com", "a.amazonaws.com"]},
            "Action": ["S3:GetObject", "s3:getobject", "s3:ListBucket"],
            "Resource": "arn:aws:s3:::b",
            "Condition": {"StringLike": {"AWS:SourceArn": "arn:x"}, "Null": {}},
        }
    }
    assert canonical(doc) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "AWS": [f"arn:aws:iam::{ACCOUNT}:root"],
                    "Service": ["a.amazonaws.com", "b.amazonaws.com"],
                },
                "Action": ["s3:getobject", "s3:listbucket"],
                "Resource": ["arn:aws:s3:::b"],
                "Condition": {"StringLike": {"aws:sourcearn": ["arn:x"]}},
            }
        ],
    }


def test_canonical_keeps_star_principal_and_2008_version():
    doc = {"Version": "2008-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                                                   "NotAction": "iam:*"}]}
    out = canonical(doc)
    assert out["Version"] == "2008-10-17"
    assert out["Statement"][0]["Principal"] == "*"
    assert out["Statement"][0]["NotAction"] == ["iam:*"]


def test_canonical_does_not_mutate_input():
    doc = trust_policy()
    before = copy.deepcopy(doc)
    canonical(doc)
    diff(doc, trust_policy(sub="*"))
    assert doc == before


def test_principal_alias_moves_to_aws_type_and_keeps_others():
    doc = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"CanonicalUser": [OAI_CANONICAL, "other-canonical-id"]},
                "Action": "s3:GetObject",
                "Resource": "*",
            }
        ]
    }
    out = canonical(doc, principal_aliases={OAI_CANONICAL: OAI_ARN})
    assert out["Statement"][0]["Principal"] == {
        "AWS": [OAI_ARN],
        "CanonicalUser": ["other-canonical-id"],
    }


def test_principal_alias_within_aws_type_then_account_rewrite():
    doc = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "AROAEXAMPLEID"},
                          "Action": "sts:AssumeRole"}]}
    out = canonical(doc, principal_aliases={"AROAEXAMPLEID": "arn:aws:iam::123456789012:role/x"})
    assert out["Statement"][0]["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/x"]}
    out = canonical(doc, principal_aliases={"AROAEXAMPLEID": ACCOUNT})
    assert out["Statement"][0]["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}


def test_statement_order_is_deterministic():
    a = publish_policy()
    b = modified(a, lambda d: d["Statement"].reverse())
    assert canonical(a)["Statement"] == canonical(b)["Statement"]
    keys = [json.dumps(s, sort_keys=True) for s in canonical(a)["Statement"]]
    assert keys == sorted(keys)


def test_dumps_is_compact_sorted_json():
    text = dumps(url_encoded(trust_policy()))
    assert " " not in text.replace("Origin Access", "")  # compact separators
    assert json.loads(text) == canonical(trust_policy())
    assert text == json.dumps(json.loads(text), separators=(",", ":"), sort_keys=True)


def test_duplicate_condition_keys_differing_in_case_rejected():
    doc = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                          "Condition": {"StringEquals": {"aws:SourceAccount": "1",
                                                         "AWS:sourceaccount": "2"}}}]}
    with pytest.raises(PolicyError, match="twice"):
        canonical(doc)


# ---------------------------------------------------------------------------
# parse()
# ---------------------------------------------------------------------------


def test_parse_forms():
    doc = trust_policy()
    assert parse(doc) == doc
    assert parse(doc) is not doc
    assert parse(json.dumps(doc)) == doc
    assert parse(json.dumps(doc).encode()) == doc
    assert parse(url_encoded(doc)) == doc
    # JSON text that itself contains '%' must not be URL-decoded.
    pct = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/%41"}]}
    assert parse(json.dumps(pct)) == pct


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "not json",
        "{'Version': '2012-10-17'}",
        "%7Bnot%20json",
        "[1, 2, 3]",
        '"a string"',
        "42",
        "null",
        42,
        None,
        ["Statement"],
        b"\xff\xfe",
    ],
    ids=repr,
)
def test_parse_rejects_junk(junk):
    with pytest.raises(PolicyError):
        parse(junk)


def test_policy_error_is_value_error_with_clear_message():
    with pytest.raises(ValueError, match="not valid JSON"):
        parse("not json")
    with pytest.raises(PolicyError, match="JSON object"):
        parse("[1]")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Statement": "Allow"}, "Statement must be"),
        ({"Statement": [{"Action": "s3:*"}]}, "no Effect"),
        ({"Statement": [{"Effect": "allow", "Action": "s3:*"}]}, "Effect"),
        ({"Statement": [{"Effect": "Allow", "Action": 5}]}, "Action"),
        ({"Statement": [{"Effect": "Allow", "Principal": "arn:aws:iam::1:root"}]}, "Principal"),
        ({"Statement": [{"Effect": "Allow", "Condition": {"StringLike": "x"}}]}, "StringLike"),
        ({"Statement": [{"Effect": "Allow", "Condition": {"Null": {"k": None}}}]}, "Null"),
        ({"Version": 2012, "Statement": []}, "Version"),
    ],
)
def test_canonical_rejects_malformed_documents(bad, message):
    with pytest.raises(PolicyError, match=message):
        canonical(bad)
