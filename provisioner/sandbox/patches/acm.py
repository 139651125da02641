"""ACM in the sandbox: certificates issued at once, and idempotency tokens of deleted certificates.

- A sandbox setting, not an AWS behaviour: DNS validation is not simulated, so
  ``moto.settings.ACM_VALIDATION_WAIT = 0`` (certificates are ``ISSUED`` at once) unless the
  operator set ``MOTO_ACM_VALIDATION_WAIT`` explicitly (:func:`apply_validation_wait`).
- AWS behaviour reproduced
  (https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html, IdempotencyToken):
  repeated calls with one token within an hour "request only one certificate", and AWS never
  answers 500 here. moto 5.2.1 keeps the token -> ARN mapping after ``DeleteCertificate`` and then
  fails the next ``RequestCertificate`` with that token (HTTP 500, KeyError): a destroy followed by
  an apply in one sandbox session crashed. With the certificate gone there is nothing to return, so
  the sandbox treats the request as new (:func:`apply`).
"""

from __future__ import annotations

import os

from moto import settings
from moto.acm.models import AWSCertificateManagerBackend


def apply_validation_wait() -> None:
    """ACM certificates are ISSUED at once in the sandbox, unless a wait was asked for explicitly."""
    if "MOTO_ACM_VALIDATION_WAIT" not in os.environ:
        settings.ACM_VALIDATION_WAIT = 0


def apply() -> None:
    """A deleted certificate's idempotency token no longer answers with that certificate."""
    original = AWSCertificateManagerBackend.delete_certificate

    def delete_certificate(self: AWSCertificateManagerBackend, arn: str) -> None:
        original(self, arn)
        for token in [t for t, v in self._idempotency_tokens.items() if v.get("arn") == arn]:
            del self._idempotency_tokens[token]

    AWSCertificateManagerBackend.delete_certificate = delete_certificate  # type: ignore[method-assign]
