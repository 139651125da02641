"""Route53 records of one zone written together share one change batch (issue 21): the A and
AAAA aliases of the CDN go in one ChangeResourceRecordSets, and that change is waited for once.

AWS applies a change batch atomically and answers it with one change id (ChangeResourceRecordSets
API reference: "the request ... is processed as a single transaction"; GetChange reports that one
id PENDING then INSYNC), so one INSYNC wait covers every record in it.
"""

from __future__ import annotations

from collections import Counter

from tests.test_acm_route53 import r53_changes as _changes


def test_alias_records_share_one_batch_and_one_insync_wait(aws_env, cli):
    a = cli("apply", "--auto-approve")
    assert a.code == 0, a.output
    batches = [c for c in a.calls if c.operation == "ChangeResourceRecordSets"]
    aliases = [c for c in batches if {t for _a, _n, t in _changes(c)} & {"A", "AAAA"}]
    assert len(aliases) == 1, [_changes(c) for c in batches]
    assert sorted(t for _a, _n, t in _changes(aliases[0])) == ["A", "AAAA"]
    assert b"route53_record.alias_a, route53_record.alias_aaaa" in aliases[0].params["body"]  # the Comment names both
    # the sandbox answers INSYNC at once here: one poll per change id, none polled twice
    polls = Counter(c.params["url_path"] for c in a.calls if c.operation == "GetChange")
    assert len(polls) == len(batches) and set(polls.values()) == {1}, polls

    again = cli("plan")
    assert again.code == 0 and again.mutating == [], again.output


def test_a_drifted_alias_alone_is_repaired_alone(aws_env, cli):
    """Only the records that differ are in the batch: AAAA drifted, A untouched."""
    assert cli("apply", "--auto-approve").code == 0
    import boto3

    r53 = boto3.client("route53", endpoint_url=aws_env.url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    name = "slurm-factory-spack-binary-cache.vantagecompute.ai."
    rr = next(r for r in r53.list_resource_record_sets(HostedZoneId=aws_env.zone_id)["ResourceRecordSets"]
              if r["Name"] == name and r["Type"] == "AAAA")
    r53.change_resource_record_sets(HostedZoneId=aws_env.zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {**rr, "AliasTarget": {**rr["AliasTarget"],
                                                                         "DNSName": "elsewhere.cloudfront.net."}}}]})
    a = cli("apply", "--auto-approve")
    assert a.code == 0, a.output
    assert [_changes(c) for c in a.calls if c.operation == "ChangeResourceRecordSets"] == [[("UPSERT", name, "AAAA")]]


def test_a_shared_batch_is_split_before_the_request_quotas(aws_env, cli, desired_file):
    """20 TXT records of ~2,000 characters each, ready together: 40,000+ characters in one request
    would pass Route 53's 32,000 (the sandbox refuses it, as AWS does): two batches, never a part split."""

    extra = "".join(f'[[dns.records]]\nname = "big{i}.vantagecompute.ai"\ntype = "TXT"\nttl = 300\n'
                    f'values = ["{"k" * 2000}"]\n\n' for i in range(20))
    desired_file.write_text(desired_file.read_text().replace("# --- CloudFront", extra + "# --- CloudFront", 1))
    a = cli("apply", "--auto-approve")
    assert a.code == 0, a.output
    sizes = [len(_changes(c)) for c in a.calls if c.operation == "ChangeResourceRecordSets"
             and any(n.startswith("big") for _a, n, _t in _changes(c))]
    assert len(sizes) == 2 and sum(sizes) == 20, sizes  # (the sandbox refused any request over the quota)
    assert cli("plan").code == 0


def test_fits_one_request_counts_records_and_characters_upsert_twice():
    from provisioner.reconcilers.route53 import fits_one_request

    def change(action: str, n: int, size: int) -> dict:
        return {"Action": action, "ResourceRecordSet": {"Name": "x.", "Type": "TXT", "TTL": 1,
                                                         "ResourceRecords": [{"Value": "v" * size}] * n}}

    assert fits_one_request([change("CREATE", 1000, 1)])
    assert not fits_one_request([change("CREATE", 1001, 1)])
    assert not fits_one_request([change("UPSERT", 501, 1)])  # 1,002 counted
    assert fits_one_request([change("CREATE", 10, 3200)])  # 32,000 characters
    assert not fits_one_request([change("UPSERT", 5, 3201)])
    alias = {"Action": "UPSERT", "ResourceRecordSet": {"Name": "a.", "Type": "A", "AliasTarget": {}}}
    assert fits_one_request([alias] * 2000)  # an alias holds no ResourceRecord element
