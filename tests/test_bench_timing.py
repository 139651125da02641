"""scripts/bench_timing.py reads settles and their dependencies from a request log (issue 21): a
synthetic log, no sandbox and no timing. The critical path must come from what the requests say
(which certificate a distribution names, which CNAMEs a certificate needs), not from a fixed list."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_timing", ROOT / "scripts" / "bench_timing.py")
bt = importlib.util.module_from_spec(spec)
sys.modules.setdefault("bench_timing", bt)  # dataclasses look their module up
spec.loader.exec_module(bt)

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/abcdef12-0000"
CNAME = "_x.cdn.example.com."
R53 = "https://route53.amazonaws.com/doc/2013-04-01/"


def entry(t, method, path, req=b"", resp=b"", target=""):
    return {"t0": t, "t1": t + 0.01, "method": method, "path": path, "target": target, "req": req, "resp": resp,
            "status": 200}


def change(t, cid, name, rtype):
    req = (f'<ChangeResourceRecordSetsRequest xmlns="{R53}"><ChangeBatch><Changes><Change><Action>UPSERT</Action>'
           f"<ResourceRecordSet><Name>{name}</Name><Type>{rtype}</Type></ResourceRecordSet></Change></Changes>"
           "</ChangeBatch></ChangeResourceRecordSetsRequest>").encode()
    resp = f'<R xmlns="{R53}"><ChangeInfo><Id>/change/{cid}</Id><Status>PENDING</Status></ChangeInfo></R>'.encode()
    return entry(t, "POST", "/2013-04-01/hostedzone/Z1/rrset", req, resp)


def get_change(t, cid, status):
    return entry(t, "GET", f"/2013-04-01/change/{cid}", resp=f"<R><ChangeInfo><Status>{status}</Status></ChangeInfo></R>".encode())


def describe(t, status):
    cert = {"Certificate": {"CertificateArn": ARN, "Status": status,
                            "DomainValidationOptions": [{"ResourceRecord": {"Name": CNAME}}]}}
    return entry(t, "POST", "/", resp=json.dumps(cert).encode(), target="CertificateManager.DescribeCertificate")


def log(cert_in_config: bool):
    vc = f"<ViewerCertificate><ACMCertificateArn>{ARN}</ACMCertificateArn></ViewerCertificate>" if cert_in_config else ""
    return [
        entry(1.0, "POST", "/", resp=json.dumps({"CertificateArn": ARN}).encode(),
              target="CertificateManager.RequestCertificate"),
        describe(1.5, "PENDING_VALIDATION"),
        change(2.0, "C1", CNAME, "CNAME"),
        get_change(2.5, "C1", "PENDING"),
        get_change(5.1, "C1", "INSYNC"),
        describe(8.5, "ISSUED"),
        entry(9.0, "POST", "/2020-05-31/distribution", f"<DistributionConfig>{vc}</DistributionConfig>".encode(),
              b"<Distribution><Id>E1</Id><Status>InProgress</Status></Distribution>"),
        entry(34.0, "GET", "/2020-05-31/distribution/E1", resp=b"<Distribution><Status>Deployed</Status></Distribution>"),
        change(34.5, "C2", "cdn.example.com.", "A"),
        get_change(37.6, "C2", "INSYNC"),
    ]


def test_settles_and_the_critical_path_come_from_the_log():
    r = bt.analyse(log(cert_in_config=True), wall=38.0, dur=bt.durations(0.1))
    assert r["critical_path_s"] == 30.0  # ACM 6 s from the CNAME write, then the 24 s deploy
    assert [c.split(" ")[0] + " " + c.split(" ")[1] for c in r["chain"]] == ["ACM validation", "CloudFront create"]
    by = {s["label"].split(" ")[0] + " " + s["label"].split(" ")[-1]: s for s in r["settles"]}
    acm = by["ACM abcdef12"]
    assert round(acm["write"], 2) == 2.01 and round(acm["seen"], 2) == 8.51
    assert any("overlap" in line or "||" in line for line in r["timeline"])


def test_a_distribution_that_names_no_certificate_does_not_wait_for_one():
    r = bt.analyse(log(cert_in_config=False), wall=38.0, dur=bt.durations(0.1))
    assert r["critical_path_s"] == 24.0
    assert r["chain"][0].startswith("CloudFront create E1")
