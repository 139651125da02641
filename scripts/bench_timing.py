"""`scripts/bench --aws-timing`: an apply at AWS-like durations, and its critical path from the request log.

The sandbox (in the bench process) imposes the durations of issue 21 times ``scale``: a Route53 change
INSYNC 30 s after ChangeResourceRecordSets (``PROVISION_SANDBOX_ROUTE53_INSYNC_SECONDS``), an ACM
certificate ISSUED 60 s after its validation CNAME is written (``PROVISION_SANDBOX_ACM_ISSUE_SECONDS``),
a CloudFront create or update Deployed 240 s after it (``PROVISION_SANDBOX_DEPLOY_SECONDS``).

Every HTTP request the CLI makes is logged (time, path, request and response bodies). From the log:

- the *settles*: each Route53 change batch (its Id, its records), each certificate's validation (starts
  when the last of its validation CNAMEs is written; the names come from DescribeCertificate), each
  CloudFront create/update (its distribution Id, the certificate its config names);
- which settle needs which other *settled* (AWS's rules, applied to what the requests say): a
  distribution write naming an ACM certificate needs that certificate ISSUED; a certificate's
  validation needs only its CNAME written (identity, no settle); a Route53 change needs nothing
  settled (an alias needs only the distribution's domain name, which CreateDistribution answers);
- the critical path: the longest chain of settles, each starting when the settles it needs end (writes
  taking no time): the floor no tool can beat. Wall / path is the figure of merit;
- a timeline: each settle's write, when AWS finished it, when the tool saw it (its first poll
  answering done), and which settles overlapped.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

BASE = {"route53": 30.0, "acm": 60.0, "cloudfront": 240.0}  # seconds at scale 1 (issue 21)
SANDBOX_ENV = {"route53": "PROVISION_SANDBOX_ROUTE53_INSYNC_SECONDS", "acm": "PROVISION_SANDBOX_ACM_ISSUE_SECONDS",
               "cloudfront": "PROVISION_SANDBOX_DEPLOY_SECONDS"}


OFF_GRID = 7.0  # --off-grid: 37 / 67 / 247 s (issue 21's second row: off every tool's poll grid)


def durations(scale: float, off_grid: bool = False) -> dict[str, float]:
    return {k: (v + (OFF_GRID if off_grid else 0.0)) * scale for k, v in BASE.items()}


@dataclass
class Settle:
    kind: str  # route53 | acm | cloudfront
    key: str  # change id | certificate ARN | distribution id
    label: str
    start: float  # the write AWS accepted (end of its request), seconds from the command's spawn
    duration: float
    needs: list[str] = field(default_factory=list)  # keys of settles that must have ended first
    seen: float | None = None  # the tool's first poll that answered done
    first_poll: float | None = None

    @property
    def end(self) -> float:
        return self.start + self.duration


def _xml(body: bytes) -> ET.Element | None:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for el in root.iter():
        el.tag = el.tag.split("}", 1)[-1]
    return root


def _json(body: bytes) -> dict:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        return {}


def _text(root: ET.Element | None, path: str) -> str:
    el = root.find(path) if root is not None else None
    return (el.text or "") if el is not None else ""


_RRSET = re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset/?$")
_CHANGE = re.compile(r"^/2013-04-01/change/([^/]+)$")
_DIST = re.compile(r"^/20\d\d-\d\d-\d\d/distribution/?$")
_DIST_CONFIG = re.compile(r"^/20\d\d-\d\d-\d\d/distribution/([^/]+)/config$")
_DIST_GET = re.compile(r"^/20\d\d-\d\d-\d\d/distribution/([^/]+)$")


def settles(log: list[dict], dur: dict[str, float]) -> list[Settle]:
    """The settles one command started, read from its request log (entries: t0, t1, method, path,
    target, req, resp, status)."""
    out: list[Settle] = []
    by_key: dict[tuple[str, str], list[Settle]] = {}
    cnames: dict[str, set[str]] = {}  # certificate ARN -> its validation CNAME names
    written: dict[str, float] = {}  # record name -> first write (ChangeResourceRecordSets accepted)

    def add(s: Settle) -> None:
        out.append(s)
        by_key.setdefault((s.kind, s.key), []).append(s)

    for e in log:
        if e["status"] >= 300:
            continue
        path, method, target = e["path"], e["method"], e.get("target") or ""
        if target.endswith(".RequestCertificate"):
            arn = _json(e["resp"]).get("CertificateArn", "")
            cnames.setdefault(arn, set())
        elif target.endswith(".DescribeCertificate"):
            cert = _json(e["resp"]).get("Certificate", {})
            arn = cert.get("CertificateArn", "")
            names = {(o.get("ResourceRecord") or {}).get("Name", "").lower() for o in cert.get("DomainValidationOptions") or []}
            if arn in cnames and names - {""}:
                cnames[arn] |= names - {""}
        elif method == "POST" and _RRSET.match(path):
            req, resp = _xml(e["req"]), _xml(e["resp"])
            recs = [(_text(c, "ResourceRecordSet/Name").lower().rstrip(".") + ".", _text(c, "ResourceRecordSet/Type"),
                     _text(c, "Action")) for c in (req.iter("Change") if req is not None else [])]
            for name, _t, action in recs:
                if action != "DELETE":
                    written.setdefault(name, e["t1"])
            change_id = _text(resp, "ChangeInfo/Id").split("/")[-1]
            label = "Route53 " + ", ".join(f"{a} {t} {n.split('.', 1)[0]}" for n, t, a in recs)
            add(Settle("route53", change_id, label, e["t1"], dur["route53"]))
        elif method == "GET" and (m := _CHANGE.match(path)):
            status = _text(_xml(e["resp"]), "ChangeInfo/Status")
            for s in by_key.get(("route53", m.group(1)), []):
                if s.first_poll is None:
                    s.first_poll = e["t0"]
                if s.seen is None and status == "INSYNC":
                    s.seen = e["t1"]
        elif (method == "POST" and _DIST.match(path)) or (method == "PUT" and _DIST_CONFIG.match(path)):
            req, resp = _xml(e["req"]), _xml(e["resp"])
            dist_id = _text(resp, "Id")
            cert = next((el.text or "" for el in req.iter("ACMCertificateArn")), "") if req is not None else ""
            verb = "create" if method == "POST" else "update"
            add(Settle("cloudfront", dist_id, f"CloudFront {verb} {dist_id}", e["t1"], dur["cloudfront"],
                       needs=[cert] if cert else []))
        elif method == "GET" and (m := _DIST_GET.match(path)):
            status = _text(_xml(e["resp"]), "Status")
            for s in by_key.get(("cloudfront", m.group(1)), []):
                if e["t0"] < s.start:
                    continue
                if s.first_poll is None:
                    s.first_poll = e["t0"]
                if s.seen is None and status == "Deployed":
                    s.seen = e["t1"]
    for arn, names in cnames.items():  # a validation starts when the last of its CNAMEs is written
        if names and all(n in written for n in names):
            s = Settle("acm", arn, f"ACM validation {arn.rsplit('/', 1)[-1][:8]}", max(written[n] for n in names),
                       dur["acm"])
            out.append(s)
            by_key.setdefault(("acm", arn), []).append(s)
    # the tool's polls of each validation (DescribeCertificate), now that the validations are known
    for e in log:
        if (e.get("target") or "").endswith(".DescribeCertificate") and e["status"] < 300:
            cert = _json(e["resp"]).get("Certificate", {})
            for s in by_key.get(("acm", cert.get("CertificateArn", "")), []):
                if e["t0"] >= s.start and s.first_poll is None:
                    s.first_poll = e["t0"]
                if e["t0"] >= s.start and s.seen is None and cert.get("Status") == "ISSUED":
                    s.seen = e["t1"]
    out.sort(key=lambda s: s.start)
    return out


def critical_path(ss: list[Settle]) -> tuple[float, list[Settle]]:
    """The longest chain of settles, each starting when the settles it needs have ended (writes take no
    time): (its length in seconds, the chain)."""
    by_key = {s.key: s for s in ss if s.kind == "acm"}
    memo: dict[int, tuple[float, list[Settle]]] = {}

    def ideal(s: Settle) -> tuple[float, list[Settle]]:
        if id(s) not in memo:
            best: tuple[float, list[Settle]] = (0.0, [])
            for k in s.needs:
                if k in by_key:
                    best = max(best, ideal(by_key[k]), key=lambda x: x[0])
            memo[id(s)] = (best[0] + s.duration, [*best[1], s])
        return memo[id(s)]

    return max((ideal(s) for s in ss), key=lambda x: x[0], default=(0.0, []))


def timeline(ss: list[Settle], wall: float, width: int = 60) -> list[str]:
    """A text Gantt chart: '=' AWS settling, '.' settled but not yet seen by the tool, '|' seen."""
    span = max([wall, *(s.end for s in ss)]) or 1.0
    col = span / width

    def bar(s: Settle) -> str:
        cells = [" "] * (width + 1)
        a, b = int(s.start / col), int(s.end / col)
        for i in range(a, min(b, width) + 1):
            cells[i] = "="
        if s.seen is not None:
            for i in range(b + 1, min(int(s.seen / col), width) + 1):
                cells[i] = "."
            cells[min(int(s.seen / col), width)] = "|"
        return "".join(cells)

    lines = [f"timeline: t = 0 at the command's spawn, exit at {wall:.1f} s; one column = {col:.2f} s; "
             "'=' AWS settling, '.' settled but not yet seen by the tool, '|' seen",
             f"  {'settle':44} {'write':>7} {'settled':>8} {'seen':>7} {'lag':>5}"]
    for s in ss:
        seen = f"{s.seen:7.1f}" if s.seen is not None else "      -"
        lag = f"{s.seen - s.end:5.1f}" if s.seen is not None else "    -"
        lines.append(f"  {s.label[:44]:44} {s.start:7.1f} {s.end:8.1f} {seen} {lag} {bar(s)}")
    overlaps = []
    for i, a in enumerate(ss):
        for b in ss[i + 1:]:
            o = min(a.end, b.end) - max(a.start, b.start)
            if o > 0:
                overlaps.append(f"  {a.label} || {b.label}: {o:.1f} s together")
    if ss:
        last = max((s.seen or s.end) for s in ss)
        lines.append(f"before the first settle's write: {ss[0].start:.1f} s (start-up, plan, earlier writes); "
                     f"after the last settle was seen: {wall - last:.1f} s")
    lines.append("overlapping settles:" if overlaps else "overlapping settles: none (every wait ran alone)")
    lines += overlaps
    return lines


def analyse(log: list[dict], wall: float, dur: dict[str, float]) -> dict[str, Any]:
    ss = settles(log, dur)
    path, chain = critical_path(ss)
    return {"wall_s": wall, "critical_path_s": path, "ratio": wall / path if path else None,
            "chain": [f"{s.label} ({s.duration:g} s)" for s in chain],
            "settles": [{"label": s.label, "write": s.start, "settled": s.end, "seen": s.seen,
                         "first_poll": s.first_poll} for s in ss],
            "timeline": timeline(ss, wall)}


def report(name: str, r: dict) -> list[str]:
    ratio = f"{r['ratio']:.2f} x" if r["ratio"] else "-"
    return [f"## {name}", f"wall {r['wall_s']:.1f} s, critical path {r['critical_path_s']:.1f} s "
            f"({' -> '.join(r['chain']) or 'no settle'}), ratio {ratio}", *r["timeline"], ""]
