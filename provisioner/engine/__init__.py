"""The reconcile engine: dependency order, concurrent live reads, plan, apply, destroy, waits.

    plan():   every resource is read as soon as the resources it depends on have been read
              (graphlib, a thread pool), normalised, diffed against its desired value -> Plan.
    apply():  resources in dependency order, independent ones concurrently (``scheduling``, a bounded
              pool); a resource is touched only when the plan changes it or a dependency changed
              during this apply. Each write re-reads right before it writes and reads again after
              (read-after-write) to publish fresh outputs. A write returns once AWS accepted it;
              what it left pending (INSYNC, Deployed) is its ``settle``, a task of its own that
              only dependents naming it in ``needs_settled`` wait for; the apply ends when every
              write and settle has finished. Destroy: reverse order, one at a time.

``plan`` and ``drift`` are the same computation; nothing here branches on "dry run".

Ownership (``provisioner.ownership``): every existing resource is ours, shared, or foreign. A
foreign one is planned as ``foreign`` (plan exits 1; apply refuses before its first write) unless
the desired state's ``[adopt]`` globs or ``--adopt`` name it: then ``adopt``, the field changes
plus the ownership mark. Apply re-checks ownership right before every write (a thing that became
foreign since the plan is refused, never claimed); destroy deletes only what is ours.

Invariant (expand, switch, contract): no apply ever cuts users off. At every moment of an apply,
after every single mutating request, the distribution the alias resolves to is granted
``s3:GetObject`` by the buildcache bucket policy, for the origin access it uses now and, while it
deploys a change, for the one it used before. How:
  - expand: a resource with ``expand_before = (X,)`` applies its ``expand_desired`` right before X
    (the distribution) is changed: the bucket policy gets the new origin access's grant while it
    keeps every grant a live distribution uses;
  - switch: X changes (OAI <-> OAC, a new certificate attached); its deploy is its settle;
  - contract: the resource's own desired value at its place after X in the dependency order
    (after X's deploy when it would drop a grant: ``needs_settled``),
    which still keeps any grant a live distribution's origin uses (``s3.S3BucketPolicy``: all of
    them while a distribution of the bucket is not yet deployed, e.g. with --no-wait);
  - DNS is pointed at the distribution only after its grant (alias records depend on the policy);
  - an adopted role gets our inline policy before the previous owner's extra policies go, and is
    tagged ours last; a replaced certificate is attached before the old one could be deleted
    (apply never deletes it). tests/test_adoption.py checks it after every mutating request.
"""

from __future__ import annotations

from ..context import Context, Progress
from ..errors import PreconditionError
from .applying import ApplyResult, apply
from .planning import (
    ACCEPTED,
    READ_WORKERS,
    all_changes,
    desired_hash,
    destroy_plan,
    last_record,
    order,
    outputs,
    plan,
    read_all,
    refuse_blocked,
)

__all__ = ["Context", "Progress", "plan", "apply", "destroy_plan", "outputs", "order", "read_all", "PreconditionError",
           "refuse_blocked", "ApplyResult", "last_record", "desired_hash", "all_changes", "ACCEPTED", "READ_WORKERS"]
