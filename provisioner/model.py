"""The plan as plain data, the Resource protocol reconcilers implement, and the field-level diff.

A resource is one managed thing (a bucket, a role, an alarm). It knows:
  - ``address``: a stable name like ``s3_bucket.buildcache`` (Terraform style);
  - ``depends_on``: addresses it needs (outputs it reads, ordering of creation);
  - ``desired(ctx)``: the desired value, a dict of only the fields the TOML declares, normalised;
  - ``read(ctx)``: the live value normalised to the same shape, or ``None`` when it does not exist;
  - ``create/update/delete``: the boto3 calls (``settle``: waits left pending by a write);
  - ``outputs(ctx, live)``: values other resources (and ``provision outputs``) reference.

Diffs compare only the keys present in the desired value, so fields AWS fills in never show.
What matters and is not declared (an extra attached policy, a CORS rule nobody wrote) is carried by
the live value under ``undeclared`` {path: value} and becomes ``UNEXPECTED`` field changes
(``undeclared_changes``); ``undeclared_kept`` {path: why} marks the ones apply only reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from . import ownership as own
from .errors import PreconditionError

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context


class Unknown:
    """A value that is known only after apply (an id of a resource not created yet)."""

    __slots__ = ("ref",)

    def __init__(self, ref: str):
        self.ref = ref

    def __repr__(self) -> str:
        return "(known after apply)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(("Unknown", self.ref))


def has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_unknown(v) for v in value)
    return False


CREATE = "create"
UPDATE = "update"
DELETE = "delete"
READ = "read"  # data sources (e.g. the hosted zone): never changed
NOOP = "no-op"
ADOPT = "adopt"  # exists, not ours, adopted on purpose: take it over (and make the field changes)
FOREIGN = "foreign"  # exists, not ours, not adopted: blocks plan (exit 1) and apply (refused)

#: FieldChange kind of something present in AWS that the desired state does not declare (an extra
#: attached policy, a CORS rule nobody wrote): drift, removed by apply unless ``report_only``.
UNEXPECTED = "UNEXPECTED"


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any
    kind: str = "CHANGE"  # ADD (absent live) | REMOVE (absent desired) | CHANGE | NOTE | UNEXPECTED
    #: why apply leaves it in place (e.g. on a shared resource): drift reports it, apply does not touch it
    report_only: str = ""
    cause: str = ""  # out-of-band | unapplied | both | unknown (drift, from the last apply's record)

    def to_json(self) -> dict:
        out = {"path": self.path, "expected": jsonable(self.new), "actual": jsonable(self.old), "kind": self.kind}
        if self.report_only:
            out["report_only"] = self.report_only
        if self.cause:
            out["cause"] = self.cause
        return out


@dataclass(frozen=True)
class Change:
    address: str
    action: str  # create | update | delete | no-op
    fields: tuple[FieldChange, ...] = ()
    destructive: bool = False
    note: str = ""
    fingerprint: str = ""  # hash of the live value the plan saw (saved plans refuse if it moved)
    owner: str = ""  # ownership.ABSENT | OURS | FOREIGN | SHARED ("" for data sources)
    owner_note: str = ""  # whose it is when not ours ("CloudFormation stack X, logical id Y")

    def to_json(self) -> dict:
        return {
            "address": self.address,
            "action": self.action,
            "destructive": self.destructive,
            "note": self.note,
            "fingerprint": self.fingerprint,
            "owner": self.owner,
            "owner_note": self.owner_note,
            "fields": [f.to_json() for f in self.fields],
        }


@dataclass(frozen=True)
class Orphan:
    """A resource tagged as this stack's that the desired state no longer names."""

    address: str  # e.g. cloudwatch_alarm.old-alarm (the address it had, or would have)
    type: str  # "CloudWatch alarm"
    arn: str
    name: str
    why: str  # why it is an orphan
    ours: bool = False  # proved ours: our tag and our apply record
    deletable: bool = False  # `apply --prune` deletes it (ours, a kind prune deletes, not retained)
    kept: str = ""  # why prune keeps it, when it does

    def to_json(self) -> dict:
        return {"address": self.address, "type": self.type, "arn": self.arn, "name": self.name, "why": self.why,
                "ours": self.ours, "deletable": self.deletable, "kept": self.kept}

    @classmethod
    def from_json(cls, d: dict) -> "Orphan":
        return cls(d["address"], d.get("type", ""), d.get("arn", ""), d.get("name", ""), d.get("why", ""),
                   bool(d.get("ours")), bool(d.get("deletable")), d.get("kept", ""))


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)  # every managed resource, in apply order
    unmanaged: list[str] = field(default_factory=list)  # desired-state sections with no reconciler yet
    source: str = ""
    desired_hash: str = ""
    mode: str = "apply"  # apply | destroy
    orphans: list[Orphan] = field(default_factory=list)  # tagged ours, no longer named (plan and drift)
    prune: bool = False  # orphans that may be deleted are planned as deletions (`--prune`)
    #: per address: what was read ("fields", "sub_resources") and what was not ("not_checked": {what: why})
    coverage: dict[str, dict] = field(default_factory=dict)
    adopt: list[str] = field(default_factory=list)  # the adopt globs the plan was made with

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action in (CREATE, UPDATE, DELETE, ADOPT)]

    @property
    def blocked(self) -> list[Change]:
        """Foreign resources not adopted: plan exits 1 and apply refuses while there is one."""
        return [c for c in self.changes if c.action == FOREIGN]

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    @property
    def drifted(self) -> list[Change]:
        """What drift reports, in plan order: every change, the foreign resources (adopted or not), and
        no-ops that carry report-only findings."""
        return [c for c in self.changes if c.action in (CREATE, UPDATE, DELETE, ADOPT, FOREIGN)
                or (c.action == NOOP and c.fields)]

    @property
    def has_drift(self) -> bool:
        """What makes ``drift`` exit 2: a difference, a report-only finding, or an orphan."""
        return bool(self.drifted or self.orphans)

    def counts(self) -> dict[str, int]:
        out = {CREATE: 0, UPDATE: 0, DELETE: 0, ADOPT: 0}
        for c in self.actionable:
            out[c.action] += 1
        return out

    def to_json(self) -> dict:
        return {
            "format_version": 1,
            "mode": self.mode,
            "source": self.source,
            "desired_hash": self.desired_hash,
            "has_changes": self.has_changes,
            "summary": self.counts(),
            "changes": [c.to_json() for c in self.changes],
            "unmanaged": list(self.unmanaged),
            "orphans": [o.to_json() for o in self.orphans],
            "prune": self.prune,
            "adopt": list(self.adopt),
            "blocked": [c.address for c in self.blocked],
        }

    @classmethod
    def from_json(cls, data: dict) -> "Plan":
        changes = [
            Change(
                address=c["address"], action=c["action"], destructive=c.get("destructive", False),
                note=c.get("note", ""), fingerprint=c.get("fingerprint", ""),
                owner=c.get("owner", ""), owner_note=c.get("owner_note", ""),
                fields=tuple(FieldChange(f["path"], f.get("actual"), f.get("expected"), f.get("kind", "CHANGE"),
                                         f.get("report_only", ""), f.get("cause", ""))
                             for f in c.get("fields", [])),
            )
            for c in data["changes"]
        ]
        return cls(changes=changes, unmanaged=list(data.get("unmanaged", [])), source=data.get("source", ""),
                   desired_hash=data.get("desired_hash", ""), mode=data.get("mode", "apply"),
                   orphans=[Orphan.from_json(o) for o in data.get("orphans", [])], prune=bool(data.get("prune")),
                   adopt=list(data.get("adopt", [])))


class Resource:
    """Base class of every managed thing. Subclasses set ``address`` and implement the methods."""

    address: str = ""
    depends_on: tuple[str, ...] = ()
    #: what ``read()`` itself needs read first (plan reads it as soon as those are read); None means
    #: ``depends_on``. A read that finds its thing by name needs nothing, even when ``desired()`` does.
    read_after: tuple[str, ...] | None = None
    service: ClassVar[str] = ""  # label for messages: "S3 bucket", "CloudFront distribution"...
    data_source: ClassVar[bool] = False  # read-only lookups (hosted zone): never created/updated/deleted
    #: destroy never deletes it (the buildcache bucket: the seed's retention policy)
    retain_on_destroy: bool = False
    #: expand, switch, contract: before any of these addresses is changed, apply this resource's
    #: ``expand_desired`` (what it is now plus what the new state needs), so the change never cuts
    #: anything off; this resource's own (contracted) desired value comes at its place in the order
    expand_before: tuple[str, ...] = ()

    def desired(self, ctx: "Context") -> dict:
        raise NotImplementedError

    def read(self, ctx: "Context") -> dict | None:
        raise NotImplementedError

    def create(self, ctx: "Context", desired: dict) -> None:
        raise NotImplementedError

    def update(self, ctx: "Context", desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        raise NotImplementedError

    def delete(self, ctx: "Context", live: dict) -> None:
        raise NotImplementedError

    def outputs(self, ctx: "Context", live: dict) -> dict:
        return {}

    def converge_existing(self, ctx: "Context", desired: dict) -> bool:
        """After a create answered 'already exists' (a crashed or concurrent run made it): read it
        and correct it in place -- only when it is ours (or adopted): a same-named thing that
        appeared since the plan and is someone else's is refused, never claimed. False when it
        cannot be read (the caller re-raises)."""
        ctx.forget()  # batched reads memoised before the create are stale now
        live = self.read(ctx)
        if live is None:
            return False
        self.check_ours(ctx, live)
        changes = tuple(self.diff(desired, live))
        if changes:
            self.update(ctx, desired, live, changes)
        return True

    def ownership(self, ctx: "Context", live: dict) -> own.Ownership:
        """Whose the live thing is (``provisioner.ownership``). Default: our ``provision:stack``
        tag (``live["tags"]``), CloudFormation's system tags (``live["system_tags"]``) named."""
        return own.by_tags(ctx.desired.stack.name, live.get("tags"), live.get("system_tags"))

    def owned(self, ctx: "Context", live: dict) -> bool:
        """True when the live thing is proved ours (destroy deletes only those)."""
        return self.ownership(ctx, live).state == own.OURS

    def follows(self, ctx: "Context", parent: str) -> own.Ownership:
        """The ownership of a part of ``parent`` (a bucket's policy follows its bucket)."""
        res, live = ctx.resources.get(parent), ctx.live.get(parent)
        return own.follow(parent, None if res is None or not live else res.ownership(ctx, live))

    def check_ours(self, ctx: "Context", live: dict) -> None:
        """Refuse (PreconditionError) to write to a thing that is neither ours, shared nor adopted."""
        o = self.ownership(ctx, live)
        if o.state == own.FOREIGN and not ctx.adopts(self.address, o):
            raise PreconditionError(
                f"{self.service or 'resource'} {self.address} "
                f"{own.not_owned_message(ctx.desired.stack.name, o.detail)}; it is not changed "
                f"(adopt it on purpose: [adopt] resources or --adopt {self.address})")

    def adopt(self, ctx: "Context", live: dict) -> None:
        """Take over a foreign thing adopted on purpose, before its first write: write what makes
        it ours where that is not a field of ``desired`` (the ownership registry for records).
        Taggable things are marked by their tag write (the last write of their update)."""

    def expand_desired(self, ctx: "Context") -> dict | None:
        """The expanded value applied before a change in ``expand_before`` (None: nothing to do)."""
        return None

    def settle(self, ctx: "Context") -> None:
        """Wait for what the last write left pending (INSYNC, Deployed; --no-wait: ``ctx.defer``)."""

    def needs_settled(self, ctx: "Context") -> tuple[str, ...]:
        """Dependencies whose settled state this write needs (default: their identity only)."""
        return ()

    def diff(self, desired: dict, live: dict) -> list[FieldChange]:
        return diff_fields(desired, live)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.address}>"


_MISSING = object()


def diff_fields(desired: Any, live: Any, path: str = "") -> list[FieldChange]:
    """Field-level diff limited to what ``desired`` declares.

    Dicts recurse (keys absent from desired are ignored: AWS defaults never show). Everything else
    (lists, scalars) compares as a whole value; reconcilers normalise order where order is not
    meaningful. A desired ``Unknown`` always differs (it becomes known after apply).
    """
    out: list[FieldChange] = []
    if isinstance(desired, dict) and isinstance(live, dict) and not _is_leaf_dict(desired):
        for k, dv in desired.items():
            p = f"{path}.{k}" if path else str(k)
            lv = live.get(k, _MISSING)
            if lv is _MISSING or lv is None and dv is not None:
                if dv is None or dv == {} or dv == []:
                    continue
                out.append(FieldChange(p, None, dv, "ADD"))
            elif dv is None and lv is not None:
                out.append(FieldChange(p, lv, None, "REMOVE"))
            else:
                out.extend(diff_fields(dv, lv, p))
        return out
    if isinstance(desired, Unknown) or has_unknown(desired):
        out.append(FieldChange(path, live, desired, "CHANGE"))
    elif desired != live:
        out.append(FieldChange(path, live, desired, "CHANGE"))
    return out


class Whole(dict):
    """A dict compared as one value (e.g. a tag set: an extra live tag is a difference)."""


def _is_leaf_dict(d: dict) -> bool:
    return isinstance(d, Whole)


def jsonable(value: Any) -> Any:
    if isinstance(value, Unknown):
        return "(known after apply)"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def decided_view(live: Any, desired: Any) -> Any:
    """The part of a live value that a plan decides on: the keys the desired value declares.

    A saved plan is stale when this moves, not when a field that changes by itself does (an
    alarm's StateValue, a certificate's InUseBy/Status, a subscription's confirmation).
    """
    if not isinstance(live, dict) or not isinstance(desired, dict):
        return live
    view = {k: live.get(k) for k in sorted(desired)}
    for k in UNDECLARED_KEYS:  # what is there undeclared is decided on too (apply removes it)
        if live.get(k):
            view[k] = live[k]
    return view


#: keys of a live value holding what the desired state does not declare (``undeclared_changes``):
#: ``undeclared`` {path: value}, and ``undeclared_kept`` {path: why apply leaves it} for report-only ones
UNDECLARED_KEYS = ("undeclared", "undeclared_kept")


def undeclared_changes(live: Any) -> list[FieldChange]:
    """The UNEXPECTED items a live value carries (``live["undeclared"]``), in path order."""
    if not isinstance(live, dict):
        return []
    found = live.get("undeclared") or {}
    kept = live.get("undeclared_kept") or {}
    return [FieldChange(path, found[path], None, UNEXPECTED, kept.get(path, "")) for path in sorted(found)]


def fingerprint(value: Any) -> str:
    blob = json.dumps(jsonable(value), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


__all__ = [
    "Unknown", "has_unknown", "FieldChange", "Change", "Plan", "Resource", "diff_fields", "Whole",
    "jsonable", "decided_view", "fingerprint", "CREATE", "UPDATE", "DELETE", "NOOP", "READ", "ADOPT", "FOREIGN",
    "asdict", "UNEXPECTED", "UNDECLARED_KEYS", "undeclared_changes", "Orphan",
]
