"""The apply record's encoding (provisioner.applied) and the cause rules (provisioner.history.cause),
as pure functions: what fits an SSM parameter, and which cause each combination of "the file moved"
and "AWS moved" gets, per field and per resource."""

from __future__ import annotations

import json
import random

from provisioner import applied, history
from provisioner.model import UNEXPECTED


def _record(n: int, slots: int = 17) -> dict:
    rnd = random.Random(n)
    hexs = "0123456789abcdef"

    def h(k: int) -> str:
        return "".join(rnd.choice(hexs) for _ in range(k))

    r = {f"cloudwatch_alarm.bench-{i:03d}": [h(10), h(10), ";".join(f"field{j}={h(6)}" for j in range(slots)),
                                             f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:bench-{i:03d}"]
         for i in range(n)}
    return {"v": 1, "command": "apply", "at": "2026-01-01T00:00:00Z", "by": "arn:aws:sts::1:user/x", "commit": None,
            "dirty": False, "file": "desired_state.toml", "desired_hash": h(16), "changed": [], "pruned": [],
            "r": r, "owned": []}


def test_a_small_record_is_plain_json():
    rec = _record(3)
    value = applied.encode(rec)
    assert value.startswith("{") and len(value) <= applied.STANDARD_MAX
    assert applied.decode(value) == rec


def test_a_larger_record_is_compressed_and_round_trips():
    rec = _record(40)
    assert len(json.dumps(rec)) > applied.STANDARD_MAX
    value = applied.encode(rec)
    assert value.startswith("z1:") and len(value) <= applied.ADVANCED_MAX
    assert applied.decode(value) == rec


def test_a_huge_record_drops_field_hashes_then_resources_but_always_fits():
    big = _record(150)
    value = applied.encode(big)
    assert len(value) <= applied.ADVANCED_MAX
    got = applied.decode(value)
    assert got is not None and all(e[2] == "" for e in got["r"].values())  # per-field hashes dropped
    assert set(got["r"]) == set(big["r"])
    huge = _record(2000)
    got = applied.decode(applied.encode(huge))
    assert got is not None and got["r"] == {} and got["shrunk"] is True


def test_decode_refuses_what_is_not_a_record():
    assert applied.decode("not json") is None
    assert applied.decode(json.dumps({"v": 2})) is None
    assert applied.decode("z1:!!!") is None


def test_owned_arns_are_the_managed_and_carried_ones():
    rec = {"v": 1, "r": {"a.x": ["d", "l", "", "arn:1"], "b.y": ["d", "l", "", ""]}, "owned": ["arn:2"]}
    assert applied.owned_arns(rec) == {"arn:1", "arn:2"}
    assert applied.owned_arns(None) is None


# -- causes ------------------------------------------------------------------------------------

DESIRED = {"description": "ours", "max_session_duration": 10800, "tags": {"a": "b"}}
LIVE = dict(DESIRED)


def _rec(desired=DESIRED, live=LIVE) -> dict:
    return {"v": 1, "r": {"iam_role.x": history.entry(desired, live, "arn:role")}}


def test_causes_per_field():
    rec = _rec()
    file_moved = {**DESIRED, "description": "new words"}
    aws_moved = {**LIVE, "max_session_duration": 3600}
    both = {**LIVE, "description": "by hand"}
    assert history.cause(rec, "iam_role.x", "description", "CHANGE", file_moved, LIVE) == "unapplied"
    assert history.cause(rec, "iam_role.x", "max_session_duration", "CHANGE", DESIRED, aws_moved) == "out-of-band"
    assert history.cause(rec, "iam_role.x", "description", "CHANGE", file_moved, both) == "both"
    # the file moved on one field and AWS on another: each field keeps its own cause
    assert history.cause(rec, "iam_role.x", "max_session_duration", "CHANGE", file_moved, aws_moved) == "out-of-band"
    assert history.cause(rec, "iam_role.x", "tags.a", "CHANGE", DESIRED, {**LIVE, "tags": {"a": "c"}}) == "out-of-band"
    # nothing moved since the apply (it did not converge): unknown
    assert history.cause(rec, "iam_role.x", "description", "CHANGE", DESIRED, LIVE) == "unknown"


def test_causes_without_field_hashes_fall_back_to_the_resource():
    rec = _rec()
    rec["r"]["iam_role.x"][2] = ""
    file_moved = {**DESIRED, "description": "new words"}
    aws_moved = {**LIVE, "max_session_duration": 3600}
    assert history.cause(rec, "iam_role.x", "max_session_duration", "CHANGE", file_moved, aws_moved) == "both"
    assert history.cause(rec, "iam_role.x", "max_session_duration", "CHANGE", DESIRED, aws_moved) == "out-of-band"


def test_causes_of_missing_and_new_resources_and_no_record():
    rec = _rec()
    assert history.cause(rec, "iam_role.x", "", "MISSING", DESIRED, None) == "out-of-band"  # deleted by hand
    assert history.cause(rec, "iam_role.x", "", "MISSING", {**DESIRED, "description": "n"}, None) == "both"
    assert history.cause(rec, "cloudwatch_alarm.new", "", "MISSING", {"x": 1}, None) == "unapplied"  # new in the file
    assert history.cause(None, "iam_role.x", "description", "CHANGE", DESIRED, LIVE) == "unknown"


def test_causes_of_unexpected_things():
    rec = _rec()
    extra = {**LIVE, "undeclared": {"attached_policies[arn:admin]": "admin"}}
    assert history.cause(rec, "iam_role.x", "attached_policies[arn:admin]", UNEXPECTED, DESIRED, extra) == "out-of-band"
    # present at the last apply too (left there: a report-only one): still by hand
    rec_with = _rec(live=extra)
    assert history.cause(rec_with, "iam_role.x", "attached_policies[arn:admin]", UNEXPECTED, DESIRED, extra) == \
        "out-of-band"
    # only the file moved (it stopped declaring something that is still there): unapplied
    assert history.cause(rec_with, "iam_role.x", "attached_policies[arn:admin]", UNEXPECTED,
                         {**DESIRED, "description": "n"}, extra) == "unapplied"
