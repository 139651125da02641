"""ACM: the CloudFront certificate (always us-east-1) and its validation (wait until ISSUED).

Identity without a state file: the certificate is found by its domain (``list_certificates``,
ISSUED or PENDING_VALIDATION, every key type) and our ownership tag (``provision:stack``). An
issued certificate of ours is reused, a pending one is resumed. Without one of ours, the
certificate the alias's distribution serves (its viewer certificate, for our domain) is the one
there: foreign (CloudFormation's, say) until adopted, never a second one requested beside it. Any
other foreign certificate for the same domain is never touched. ``request_certificate`` carries a deterministic ``IdempotencyToken``
(stack, domain, SANs, key algorithm) so a retried or re-run request never makes a twin.

Fields compared: domain, SANs (sorted, the domain itself left out), key algorithm, tags (ours
only; AWS-added tags ignored). Tags are fixed in place; a domain/SAN/key-algorithm change needs a
new certificate: the plan says so (a destructive ``replace`` note) and apply requests a new one
(new token). The old certificate is left in place (CloudFront may still serve it); destroy refuses
to delete a certificate that something still uses.

``acm_validation.cdn`` is the wait for ISSUED: absent (plan: create) until the certificate is
issued; create = the ``certificate_validated`` waiter (bounded, with progress), skipped with
``--no-wait`` (a later apply resumes).
"""

from __future__ import annotations

import functools
import hashlib
import time
from typing import Any, Callable

from botocore.exceptions import ClientError

from .. import ownership as own
from .. import retry
from ..aws import error_code
from ..config import DesiredState
from ..context import Context
from ..errors import PreconditionError
from ..model import FieldChange, Resource, Unknown, diff_fields
from . import tag_index

ACM_REGION = "us-east-1"  # CloudFront only accepts certificates from us-east-1
KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
LIVE_STATUSES = ["ISSUED", "PENDING_VALIDATION"]
REPLACE_FIELDS = ("domain", "subject_alternative_names", "key_algorithm")
CERT = "acm_certificate.cdn"
DIST = "cloudfront_distribution.cdn"
VALIDATION_WAIT_SECONDS = 75 * 60  # DNS validation usually takes minutes; AWS gives up after 72 h


def acm_client(ctx: Context) -> Any:
    return ctx.client("acm", ACM_REGION)


def idempotency_token(stack: str, domain: str, sans: list[str] | tuple[str, ...], key_algorithm: str) -> str:
    """<= 32 alphanumeric characters, the same for the same request (a re-run never makes a twin).

    The key algorithm is part of it so that a replacement (another algorithm) is a new request.
    """
    blob = "|".join([stack, domain.lower(), ",".join(sorted(s.lower() for s in sans)), key_algorithm])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def key_algorithm(value: str | None) -> str | None:
    """One spelling for a key algorithm: requests and the ListCertificates filter say ``RSA_2048``,
    ``EC_prime256v1``; DescribeCertificate answers ``RSA-2048``, ``EC-prime256v1`` (AWS CLI example
    output of describe-certificate; Terraform's acm certificate.go maps the hyphenated form back)."""
    return None if value is None else value.replace("-", "_")


def _distribution_gone(ctx: Context, arn: str) -> bool:
    """True when an ``InUseBy`` ARN names a CloudFront distribution that no longer exists."""
    if ":cloudfront::" not in arn or ":distribution/" not in arn:
        return False
    try:
        ctx.client("cloudfront").get_distribution(Id=arn.rsplit("/", 1)[1])
    except ClientError as e:
        if error_code(e) == "NoSuchDistribution":
            return True
        raise
    return False


def _tags(tag_list: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in (tag_list or []) if not own.is_system_tag(t["Key"])}


def _validation_records(cert: dict) -> list[dict] | None:
    """The DNS validation CNAMEs (deduplicated, sorted), or None while ACM has not published them."""
    out: dict[tuple, dict] = {}
    dvos = cert.get("DomainValidationOptions") or []
    for dvo in dvos:
        rr = dvo.get("ResourceRecord")
        if not rr:
            return None
        rec = {"name": rr["Name"].lower(), "type": rr["Type"], "value": rr["Value"]}
        out[(rec["name"], rec["type"], rec["value"])] = rec
    if not out:
        return None
    return [out[k] for k in sorted(out)]


def describe(ctx: Context, arn: str) -> dict:
    """describe_certificate, memoised for this plan/apply step (the validation reads it too)."""
    return ctx.memo(("acm_describe", arn),
                    lambda: acm_client(ctx).describe_certificate(CertificateArn=arn)["Certificate"])


class AcmCertificate(Resource):
    service = "ACM certificate"
    address = CERT
    read_after = (DIST,)  # without ours: the certificate the alias's distribution serves

    def __init__(self, desired: DesiredState):
        self.spec = desired.certificate
        self.stack = desired.stack.name
        self.zone = desired.dns.zone
        # ARNs RequestCertificate answered in this run. ListCertificates is an index that may not show a
        # certificate requested moments ago (docs/aws-behaviour.md); the read after a request uses the
        # ARN it answered, as Terraform's certificate.go does, rather than trusting the list.
        self._requested: list[str] = []

    # -- desired / live ------------------------------------------------------------------------
    def _sans(self, domain: str, sans: Any) -> list[str]:
        return sorted({s.lower().rstrip(".") for s in sans} - {domain})

    def desired(self, ctx: Context) -> dict:
        domain = self.spec.domain
        return {
            "domain": domain,
            "subject_alternative_names": self._sans(domain, self.spec.subject_alternative_names),
            "key_algorithm": key_algorithm(self.spec.key_algorithm),
            "tags": dict(ctx.tags),
        }

    def _ours(self, tags: dict[str, str]) -> bool:
        return tags.get("provision:stack") == self.stack

    def _normalise(self, cert: dict, tags: dict[str, str], system: dict[str, str] | None = None) -> dict:
        domain = cert["DomainName"].lower().rstrip(".")
        return {
            "system_tags": dict(system or {}),
            "domain": domain,
            "subject_alternative_names": self._sans(domain, cert.get("SubjectAlternativeNames") or []),
            "key_algorithm": key_algorithm(cert.get("KeyAlgorithm")),
            "tags": tags,
            "arn": cert["CertificateArn"],
            "status": cert.get("Status"),
            "in_use_by": sorted(cert.get("InUseBy") or []),
            "validation_records": _validation_records(cert),
        }

    def _candidates(self, ctx: Context, domain_match: Callable[[str], bool]) -> list[dict]:
        """Certificate summaries (newest first, ISSUED before pending) whose domain matches."""
        summaries = ctx.memo("acm_list", lambda: self._list(ctx))
        found = [s for s in summaries if domain_match(s.get("DomainName", "").lower().rstrip("."))]
        found.sort(key=lambda s: str(s.get("CreatedAt") or ""), reverse=True)
        found.sort(key=lambda s: s.get("Status") != "ISSUED")  # stable: ISSUED first, newest first
        return found

    def _list(self, ctx: Context) -> list[dict]:
        """ListCertificates (every key type, live statuses), plus what this run requested and the list
        does not show yet (described by the ARN RequestCertificate answered)."""
        acm = acm_client(ctx)
        out = [s for page in acm.get_paginator("list_certificates").paginate(
            CertificateStatuses=LIVE_STATUSES, Includes={"keyTypes": KEY_TYPES})
            for s in page.get("CertificateSummaryList", [])]
        listed = {s.get("CertificateArn") for s in out}
        for arn in [a for a in self._requested if a not in listed]:
            try:
                cert = retry.call("acm_records_pending", functools.partial(describe, ctx, arn))
            except ClientError as e:
                if error_code(e) != "ResourceNotFoundException":
                    raise
                continue  # deleted since
            if cert.get("Status") in LIVE_STATUSES:
                out.append({k: cert.get(k) for k in ("CertificateArn", "DomainName", "Status", "CreatedAt")})
        return out

    def _cert_tags(self, ctx: Context, arn: str) -> dict[str, str]:
        def get() -> dict[str, str]:
            return _tags(acm_client(ctx).list_tags_for_certificate(CertificateArn=arn).get("Tags"))

        # A certificate requested moments ago may answer ResourceNotFoundException for a while.
        return retry.call("acm_records_pending", get) if arn in self._requested else get()

    def _find(self, ctx: Context) -> tuple[dict, dict] | None:
        """Our certificate: the one matching the desired fields if several are ours."""
        want = self.desired(ctx)
        fallback = None
        for pass_ in ("domain", "zone"):
            if pass_ == "domain":
                cands = self._candidates(ctx, lambda d: d == self.spec.domain)
            else:
                # Only when nothing for the desired domain is ours: a certificate of ours for another
                # name in the zone means the domain changed (a replacement, shown as such).
                cands = self._candidates(ctx, lambda d: d != self.spec.domain and (d == self.zone or d.endswith("." + self.zone)))
            for s in cands:
                arn = s["CertificateArn"]
                try:
                    tags = tag_index.tags(ctx, arn, lambda a: self._cert_tags(ctx, a))
                    if not self._ours(tags):
                        continue
                    cert = describe(ctx, arn)  # (listed, yet not found for a moment after RequestCertificate)
                except ClientError as e:
                    if error_code(e) == "ResourceNotFoundException":
                        continue
                    raise
                live = self._normalise(cert, tags)
                if not any(diff_fields({k: want[k] for k in REPLACE_FIELDS}, live)):
                    return cert, tags
                fallback = fallback or (cert, tags)
            if fallback is not None:
                return fallback
        return None

    def _served(self, ctx: Context) -> dict | None:
        """Not ours: the certificate for our domain that the alias's distribution serves, as its owner left it."""
        dist = ctx.live.get(DIST) or {}
        arn = (dist.get("viewer_certificate") or {}).get("acm_certificate_arn") or ""
        if not arn.startswith("arn:") or ":acm:" not in arn:
            return None
        try:
            cert = describe(ctx, arn)
            tag_list = acm_client(ctx).list_tags_for_certificate(CertificateArn=arn).get("Tags")
        except ClientError as e:
            if error_code(e) == "ResourceNotFoundException":
                return None
            raise
        if cert.get("DomainName", "").lower().rstrip(".") != self.spec.domain:
            return None
        return self._normalise(cert, _tags(tag_list), own.system_tags(tag_list))

    def read(self, ctx: Context) -> dict | None:
        found = self._find(ctx)
        if found is None:
            return self._served(ctx)
        cert, tags = found
        if cert.get("Status") == "PENDING_VALIDATION" and _validation_records(cert) is None:
            cert = self._wait_for_records(ctx, cert["CertificateArn"])
        return self._normalise(cert, tags)

    def _wait_for_records(self, ctx: Context, arn: str) -> dict:
        """ACM publishes the validation CNAMEs a few seconds after the request: bounded wait."""
        acm = acm_client(ctx)

        def get() -> dict:
            cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            if cert.get("Status") == "PENDING_VALIDATION" and _validation_records(cert) is None:
                raise retry.Pending("ValidationRecordsPending", f"no DNS validation records yet for {arn}")
            return cert

        try:
            return retry.call("acm_records_pending", get)
        except retry.Pending:
            raise PreconditionError(
                f"ACM certificate {arn}: DNS validation records did not appear in describe_certificate "
                "in time; run again later") from None

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"arn": live["arn"], "status": live["status"], "validation_records": live["validation_records"]}

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        fields = diff_fields(desired, live)
        if any(f.path.split(".", 1)[0] in REPLACE_FIELDS for f in fields) and live:
            fields.append(FieldChange(
                "replace", None,
                "forces replacement: a new certificate is requested (DESTRUCTIVE for the old one: it is kept "
                "while CloudFront uses it, delete it yourself once unused)", "NOTE"))
        return fields

    # -- changes -------------------------------------------------------------------------------
    def _request(self, ctx: Context, desired: dict) -> str:
        acm = acm_client(ctx)
        domain = desired["domain"]
        sans = desired["subject_alternative_names"]
        kwargs: dict[str, Any] = {
            "DomainName": domain,
            "ValidationMethod": "DNS",
            "KeyAlgorithm": desired["key_algorithm"],
            "IdempotencyToken": idempotency_token(self.stack, domain, sans, desired["key_algorithm"]),
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(desired["tags"].items())],
        }
        if sans:
            kwargs["SubjectAlternativeNames"] = [domain, *sans]
        arn = acm.request_certificate(**kwargs)["CertificateArn"]
        if arn not in self._requested:
            self._requested.append(arn)
        self._wait_for_records(ctx, arn)
        return arn

    def create(self, ctx: Context, desired: dict) -> None:
        self._request(ctx, desired)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        top = {c.path.split(".", 1)[0] for c in changes}
        if top & set(REPLACE_FIELDS):
            import structlog

            new_arn = self._request(ctx, desired)
            structlog.get_logger("provision").warning(
                "certificate replaced", old=live["arn"], new=new_arn,
                note="the old certificate is kept (CloudFront may still use it); delete it once unused")
            return
        if "tags" in top:
            want = {k: v for k, v in desired["tags"].items() if live.get("tags", {}).get(k) != v}
            acm_client(ctx).add_tags_to_certificate(
                CertificateArn=live["arn"], Tags=[{"Key": k, "Value": v} for k, v in sorted(want.items())])

    def delete(self, ctx: Context, live: dict) -> None:
        """Delete, once nothing uses it. ``InUseBy`` (and ``ResourceInUseException``) clear minutes
        after the distribution that used it is gone: wait for that, bounded, with progress; refuse
        at once while a distribution that still exists uses it."""
        acm, arn = acm_client(ctx), live["arn"]
        start = time.monotonic()

        def attempt() -> None:
            try:
                in_use = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("InUseBy") or []
            except ClientError as e:
                if error_code(e) == "ResourceNotFoundException":
                    return  # deleted meanwhile: done (Terraform's delete treats it the same)
                raise
            alive = [u for u in in_use if not _distribution_gone(ctx, u)]
            if alive:
                raise PreconditionError(f"ACM certificate {arn} is still used by {', '.join(alive)}; not deleted "
                                        "(delete or move the distribution first)")
            if in_use:  # only distributions that are gone: AWS clears the reference late
                raise retry.Pending("CertificateStillInUse", f"{arn} still lists {', '.join(in_use)}")
            acm.delete_certificate(CertificateArn=arn)

        def tick() -> None:
            ctx.progress.tick(f"ACM certificate {arn} to be released by CloudFront", time.monotonic() - start)

        try:
            retry.call("acm_in_use", attempt, before_retry=tick)
        except (retry.Pending, ClientError) as e:
            if isinstance(e, ClientError) and error_code(e) != "ResourceInUseException":
                raise
            raise PreconditionError(f"ACM certificate {arn}: still in use after {time.monotonic() - start:.0f}s "
                                    "(AWS releases it minutes after the distribution is deleted); run destroy again "
                                    "later") from None


class AcmValidation(Resource):
    """The certificate reaching ISSUED. Absent until then (so plan shows it as create)."""

    service = "ACM certificate validation"
    address = "acm_validation.cdn"
    depends_on = (CERT, "route53_record.acm_validation")
    read_after = (CERT,)  # the read needs only the certificate's ARN

    def desired(self, ctx: Context) -> dict:
        return {"status": "ISSUED"}

    def read(self, ctx: Context) -> dict | None:
        arn = ctx.out(CERT, "arn")
        if isinstance(arn, Unknown):
            return None
        try:
            cert = describe(ctx, arn)
        except ClientError as e:
            if error_code(e) == "ResourceNotFoundException":
                return None
            raise
        if cert.get("Status") != "ISSUED":
            return None
        return {"status": "ISSUED", "arn": arn}

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"arn": live["arn"]}

    def create(self, ctx: Context, desired: dict) -> None:
        arn = ctx.out(CERT, "arn")
        acm = acm_client(ctx)
        status = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("Status")
        if status not in ("ISSUED", "PENDING_VALIDATION"):
            raise PreconditionError(f"ACM certificate {arn} is {status}; it will not be issued "
                                    "(check the validation records, or request a new certificate)")
        if not ctx.wait:
            import structlog

            ctx.defer(self.address, f"certificate validation of {arn}")
            structlog.get_logger("provision").info(
                "not waiting for certificate validation (--no-wait)", certificate=arn,
                note="run apply again later to resume")
            return
        ctx.wait_for(f"ACM certificate validation ({arn})", acm, "certificate_validated",
                     delay=15, timeout=VALIDATION_WAIT_SECONDS, CertificateArn=arn)

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        self.create(ctx, desired)

    def delete(self, ctx: Context, live: dict) -> None:
        """Nothing to delete: the validation ends with the certificate (deleted by acm_certificate)."""

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        return self.follows(ctx, CERT)


def resources(desired: DesiredState) -> list[Resource]:
    return [AcmCertificate(desired), AcmValidation()]
