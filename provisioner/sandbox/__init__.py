"""An AWS-faithful sandbox: moto 5.2.1, patched where it differs from AWS, on 127.0.0.1.

Only this package imports moto, lazily: ``import provisioner.sandbox`` imports neither moto nor
boto3/botocore/werkzeug. The product code (the rest of ``provisioner``) never imports it, except
the CLI's ``sandbox`` and ``demo`` commands, inside their functions.

- ``server``: the version check, ``apply_patches()``, ``wsgi_app()``, ``Server``, ``sandbox_env``,
  ``create_fixtures`` (the names re-exported here);
- ``patches``: one module per service, each stating the AWS behaviour it restores;
- ``demo``: ``provision demo``, the whole workflow against an embedded sandbox.
"""

from __future__ import annotations

from .server import (
    MOTO_VERSION,
    SANDBOX_ACCESS_KEY,
    SANDBOX_REGION,
    SANDBOX_SECRET_KEY,
    SandboxError,
    Server,
    apply_patches,
    create_fixtures,
    iam_enforcement,
    sandbox_env,
    wsgi_app,
)

__all__ = [
    "MOTO_VERSION",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_REGION",
    "SANDBOX_SECRET_KEY",
    "SandboxError",
    "Server",
    "apply_patches",
    "create_fixtures",
    "iam_enforcement",
    "sandbox_env",
    "wsgi_app",
]
