"""ACM in the sandbox: what AWS answers that moto 5.2.1 does not.

- A sandbox setting, not an AWS behaviour: DNS validation is not simulated, so
  ``moto.settings.ACM_VALIDATION_WAIT = 0`` (certificates are ``ISSUED`` at once) unless the
  operator set ``MOTO_ACM_VALIDATION_WAIT`` explicitly (:func:`apply_validation_wait`).
- DNS validation, when ``PROVISION_SANDBOX_ACM_ISSUE_SECONDS`` is set (unset: the above, as before):
  a certificate stays ``PENDING_VALIDATION`` until every validation CNAME DescribeCertificate names
  (``DomainValidationOptions[].ResourceRecord``, name and value) exists in a hosted zone of the
  account, and turns ``ISSUED`` that many seconds after the last of them was written. ACM User
  Guide, dns-validation.html: "ACM ... validates the domain" once the CNAME "is added to your DNS
  configuration", retried for 72 hours; CertificateDetail ``Status``: "A certificate enters status
  PENDING_VALIDATION upon being requested ... If validation succeeds, the certificate enters
  status ISSUED". moto issues it ``MOTO_ACM_VALIDATION_WAIT`` (60 s) after the request, whether
  the record exists or not. The clock starts at the write (not at INSYNC): issue 21's figures
  (ISSUED 60 s after the CNAME exists) count the propagation inside those seconds.
- Idempotency tokens (API_RequestCertificate.html, IdempotencyToken): repeated calls with one token
  within an hour "request only one certificate", and AWS never answers 500 here. moto keeps the
  token -> ARN mapping after ``DeleteCertificate`` and then fails the next request with that token
  (HTTP 500); with the certificate gone the sandbox treats the request as new.
- ``KeyAlgorithm`` is hyphenated in answers (``RSA-2048``, ``EC-prime256v1``, ``EC-secp384r1``)
  though requests and the ``ListCertificates`` ``keyTypes`` filter spell it ``RSA_2048`` (AWS CLI
  ``awscli/examples/acm/describe-certificate.rst`` and ``list-certificates.rst`` outputs; Terraform's
  ``internal/service/acm/certificate.go`` maps it back). moto answers the underscore form, and
  ``RSA_2048`` whatever ``KeyAlgorithm`` was requested: the sandbox answers the requested one.
- Right after ``RequestCertificate``, ``DescribeCertificate`` (and ``ListTagsForCertificate``) answer
  ``ResourceNotFoundException`` for a while (API_DescribeCertificate.html: "If you have just created
  a certificate using the RequestCertificate action, there is a delay of several seconds before you
  can retrieve information about it"). Window: ``PROVISION_SANDBOX_ACM_VISIBLE_SECONDS`` (0.3 s).
- ``ListCertificates`` is an index: a certificate requested moments ago may not be listed yet, even
  once ``DescribeCertificate`` answers for it (the same "delay of several seconds before you can
  retrieve information about" a new certificate; Terraform's ``certificate.go`` never lists after a
  request, it keeps the ARN ``RequestCertificate`` answered). Window:
  ``PROVISION_SANDBOX_ACM_LIST_SECONDS`` (0 s: off unless a test asks, since a list that hides a
  certificate for longer than describe does changes what a plan right after a request sees).
- ``InUseBy`` lists the CloudFront distributions whose viewer certificate it is, and keeps listing a
  deleted distribution for a while (the reference clears minutes later on AWS; Terraform's
  ``certificate.go`` retries ``ResourceInUseException`` on delete for that reason). Window:
  ``PROVISION_SANDBOX_ACM_INUSE_CLEAR_SECONDS`` (0.5 s). ``DeleteCertificate`` of a certificate in
  use is ``ResourceInUseException`` (API_DeleteCertificate.html). moto always answers ``[]`` and
  deletes certificates in use.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from moto import settings
from moto.acm.exceptions import AWSError, CertificateNotFound
from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.acm.responses import AWSCertificateManagerResponse

_lock = threading.Lock()
_requested: dict[str, float] = {}  # certificate ARN -> when RequestCertificate made it (monotonic)
_released: dict[tuple[str, str], float] = {}  # (certificate ARN, distribution ARN) -> when deleted
_key_algorithm: dict[str, str] = {}  # certificate ARN -> the KeyAlgorithm requested (moto ignores it)


class ResourceInUse(AWSError):
    TYPE = "ResourceInUseException"


def _seconds(name: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


def hyphenated(key_algorithm: str) -> str:
    """``RSA_2048`` -> ``RSA-2048``, ``EC_prime256v1`` -> ``EC-prime256v1`` (AWS's answer form)."""
    return key_algorithm.replace("_", "-", 1)


ISSUE_SECONDS_ENV = "PROVISION_SANDBOX_ACM_ISSUE_SECONDS"


def issue_seconds() -> float | None:
    """Seconds from the validation CNAME's write to ISSUED; None (unset) = no DNS validation simulated."""
    raw = os.environ.get(ISSUE_SECONDS_ENV, "")
    if raw == "":
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def validation_started(bundle: Any) -> float | None:
    """When the last of the certificate's validation CNAMEs was written (monotonic), None while one is missing."""
    from . import route53

    options = CertBundle.describe(bundle)["Certificate"].get("DomainValidationOptions") or []
    times = []
    for option in options:
        rr = option.get("ResourceRecord") or {}
        at = route53.written_at(bundle.arn.split(":")[4], rr.get("Name", ""), rr.get("Type", "CNAME"), rr.get("Value", ""))
        if at is None:
            return None
        times.append(at)
    return max(times) if times else None


def apply_dns_validation() -> None:
    """PENDING_VALIDATION until the validation CNAMEs exist, ISSUED ``issue_seconds()`` after (when set)."""
    original_check = CertBundle.check

    def check(self: Any) -> None:
        seconds = issue_seconds()
        if seconds is None or self.type != "AMAZON_ISSUED" or self.status != "PENDING_VALIDATION":
            original_check(self)
            return
        started = validation_started(self)
        if started is not None and time.monotonic() - started >= seconds:
            self.status = "ISSUED"

    CertBundle.check = check


def apply_validation_wait() -> None:
    """ACM certificates are ISSUED at once in the sandbox, unless a wait was asked for explicitly."""
    if "MOTO_ACM_VALIDATION_WAIT" not in os.environ:
        settings.ACM_VALIDATION_WAIT = 0


def _distributions_using(account_id: str, arn: str) -> list[str]:
    from moto.cloudfront.models import cloudfront_backends

    out: list[str] = []
    for partition in ("aws",):
        backend = cloudfront_backends[account_id][partition]
        for dist in list(backend.distributions.values()):
            vc = getattr(dist.distribution_config, "ViewerCertificate", None)
            if getattr(vc, "acm_certificate_arn", "") == arn:
                out.append(dist.arn)
    return out


def in_use_by(account_id: str, arn: str) -> list[str]:
    """Distributions using the certificate, plus deleted ones whose reference has not cleared yet."""
    window = _seconds("PROVISION_SANDBOX_ACM_INUSE_CLEAR_SECONDS", 0.5)
    now = time.monotonic()
    live = _distributions_using(account_id, arn)
    with _lock:
        late = [d for (c, d), t in _released.items() if c == arn and now - t < window and d not in live]
    return sorted(live + late)


def note_distribution_deleted(dist_arn: str, cert_arn: str) -> None:
    if cert_arn:
        with _lock:
            _released[(cert_arn, dist_arn)] = time.monotonic()


def apply() -> None:
    """Idempotency tokens after delete, hyphenated KeyAlgorithm, late visibility, InUseBy."""
    original_delete = AWSCertificateManagerBackend.delete_certificate
    original_request = AWSCertificateManagerBackend.request_certificate
    original_get = AWSCertificateManagerBackend.get_certificate
    original_describe = AWSCertificateManagerResponse.describe_certificate
    original_list = AWSCertificateManagerResponse.list_certificates
    original_list_tags = AWSCertificateManagerResponse.list_tags_for_certificate
    original_request_response = AWSCertificateManagerResponse.request_certificate
    original_bundle_describe = CertBundle.describe

    def request_certificate_response(self: AWSCertificateManagerResponse) -> Any:
        body = original_request_response(self)
        algo = self._get_param("KeyAlgorithm")
        if algo and isinstance(body, str):
            arn = json.loads(body).get("CertificateArn")
            with _lock:
                _key_algorithm.setdefault(arn, algo)
        return body

    def bundle_describe(self: Any) -> dict[str, Any]:
        out = original_bundle_describe(self)
        with _lock:
            algo = _key_algorithm.get(self.arn)
        if algo:  # the key moto generated is RSA 2048 whatever was asked; answer what was asked
            out["Certificate"]["KeyAlgorithm"] = algo
        return out

    def delete_certificate(self: AWSCertificateManagerBackend, arn: str) -> None:
        if arn in self._certificates and in_use_by(self.account_id, arn):
            raise ResourceInUse(message=f"Certificate arn:{arn} is in use")
        original_delete(self, arn)
        for token in [t for t, v in self._idempotency_tokens.items() if v.get("arn") == arn]:
            del self._idempotency_tokens[token]

    def request_certificate(self: AWSCertificateManagerBackend, *args: Any, **kwargs: Any) -> str:
        known = set(self._certificates)
        arn = original_request(self, *args, **kwargs)
        if arn not in known:  # a new certificate (a repeated token answers the old one, visible)
            with _lock:
                _requested[arn] = time.monotonic()
        return arn

    def get_certificate(self: AWSCertificateManagerBackend, arn: str) -> Any:
        bundle = original_get(self, arn)
        bundle.in_use_by = in_use_by(self.account_id, arn)
        return bundle

    def check_visible(resp: AWSCertificateManagerResponse) -> None:
        arn = resp._get_param("CertificateArn")
        with _lock:
            made = _requested.get(arn)
        if made is not None and time.monotonic() - made < _seconds("PROVISION_SANDBOX_ACM_VISIBLE_SECONDS", 0.3):
            raise CertificateNotFound(arn=arn, account_id=resp.current_account)

    def describe_certificate(self: AWSCertificateManagerResponse) -> Any:
        check_visible(self)
        body = original_describe(self)
        if isinstance(body, str):
            data = json.loads(body)
            cert = data.get("Certificate", {})
            if cert.get("KeyAlgorithm"):
                cert["KeyAlgorithm"] = hyphenated(cert["KeyAlgorithm"])
            return json.dumps(data)
        return body

    def list_tags_for_certificate(self: AWSCertificateManagerResponse) -> Any:
        check_visible(self)
        return original_list_tags(self)

    def list_certificates(self: AWSCertificateManagerResponse) -> str:
        data = json.loads(original_list(self))
        lag = _seconds("PROVISION_SANDBOX_ACM_LIST_SECONDS", 0.0)
        if lag:
            now = time.monotonic()
            with _lock:
                hidden = {a for a, t in _requested.items() if now - t < lag}
            data["CertificateSummaryList"] = [s for s in data.get("CertificateSummaryList", [])
                                              if s.get("CertificateArn") not in hidden]
        for summary in data.get("CertificateSummaryList", []):
            if summary.get("KeyAlgorithm"):
                summary["KeyAlgorithm"] = hyphenated(summary["KeyAlgorithm"])
        return json.dumps(data)

    AWSCertificateManagerBackend.delete_certificate = delete_certificate
    AWSCertificateManagerBackend.request_certificate = request_certificate
    AWSCertificateManagerBackend.get_certificate = get_certificate
    AWSCertificateManagerResponse.describe_certificate = describe_certificate
    AWSCertificateManagerResponse.list_certificates = list_certificates
    AWSCertificateManagerResponse.request_certificate = request_certificate_response
    CertBundle.describe = bundle_describe
    AWSCertificateManagerResponse.list_tags_for_certificate = list_tags_for_certificate
