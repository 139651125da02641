"""What a CloudFront policy of the default behaviour is, managed or custom (response headers, origin request).

- Managed (AWS's): a data source. Found by name among ``List*Policies(Type=managed)`` (one list,
  memoised); never created, changed or deleted. A name AWS does not list is a desired-state error
  naming the key, raised at plan time (the list of AWS's managed policies lives in AWS, not here).
- Custom (ours): found by name among ``List*Policies(Type=custom)``, else (adoption) as the custom
  policy the alias's distribution uses; the comment carries our ownership marker
  ``(provision:<stack>)``: without it the policy is foreign (named as the distribution's) until
  adopted, and adopting writes the mark. Created with ``Create*Policy`` (a name taken meanwhile:
  ``*AlreadyExists`` -> adopt and correct it), updated with the config's ETag (``IfMatch``, stale
  ETags re-read), deleted with its ETag (retried while a distribution still uses it).

Subclasses name the API's operations (literally: ``tests/test_cli_policy.py`` finds them in the
source) and its shapes (``model``: ``ResponseHeadersPolicy``...), and convert between the API's
config and the compared value (``to_config`` / ``normalise``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from ... import ownership as own
from ...aws import error_code
from ...errors import ConfigError
from ...model import FieldChange, Resource
from ._common import (
    DIST_ADDR,
    _cf,
    _delete_with_etag,
    _in_use,
    _list_custom,
    _marked,
    _marker,
    _stale_etag_safe,
    _through_distribution,
)

if TYPE_CHECKING:
    from ...context import Context


def qty(items: list | tuple) -> dict:
    return {"Quantity": len(items), "Items": list(items)} if items else {"Quantity": 0}


def items(node: dict | None) -> list:
    return list((node or {}).get("Items") or [])


class _Policy(Resource):
    section: ClassVar[str] = ""  # "cdn.response_headers"
    model: ClassVar[str] = ""  # "ResponseHeadersPolicy": its List/Config/AlreadyExists shapes
    LIST: ClassVar[str] = ""  # the boto3 operations
    GET_CONFIG: ClassVar[str] = ""
    CREATE: ClassVar[str] = ""
    UPDATE: ClassVar[str] = ""
    DELETE: ClassVar[str] = ""
    DIST_FIELD: ClassVar[str] = ""  # the distribution's default-behaviour field naming it ("response_headers_policy_id")

    def __init__(self, name: str, address: str, file: str) -> None:
        self.name = name
        self.address = address
        self.file = file
        self.read_after = ()  # found by name

    def _list(self, ctx: Context, type_: str, fresh: bool = False) -> list[dict]:
        return _list_custom(ctx, self.LIST, f"{self.model}List", self.model, f"cloudfront:{self.LIST}:{type_}",
                            fresh=fresh, type_=type_)

    def _config_of(self, policy: dict) -> dict:
        return policy[f"{self.model}Config"]


class ManagedPolicy(_Policy):
    """AWS's managed policy of that name: looked up, never changed."""

    data_source = True

    def desired(self, ctx: Context) -> dict:  # pragma: no cover - data sources are never diffed
        return {}

    def read(self, ctx: Context) -> dict | None:
        found = {self._config_of(p).get("Name"): p for p in self._list(ctx, "managed")}
        if self.name not in found:
            names = ", ".join(repr(n) for n in sorted(n for n in found if n)) or "none"
            raise ConfigError(self.file, f"{self.section}.name", f"the name of a managed {self.service} "
                              f"as AWS lists it (AWS lists {names})", self.name)
        return {"id": found[self.name]["Id"], "name": self.name}

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"id": live["id"]}


class CustomPolicy(_Policy):
    """Our policy of that name: kept as the desired state says."""

    comment: str = ""

    def __init__(self, name: str, address: str, file: str) -> None:
        super().__init__(name, address, file)
        self.read_after = (DIST_ADDR,)  # without ours by name: the custom policy the alias's distribution uses

    def _used(self, ctx: Context) -> str:
        return _in_use(ctx, "default_cache_behavior", self.DIST_FIELD)

    def to_config(self, ctx: Context, desired: dict) -> dict:
        raise NotImplementedError

    def normalise(self, config: dict) -> dict:
        raise NotImplementedError

    def full_comment(self, ctx: Context) -> str:
        return f"{self.comment} ({_marker(ctx)})" if self.comment else f"({_marker(ctx)})"

    def _norm(self, policy: dict) -> dict:
        cfg = self._config_of(policy)
        return {"id": policy["Id"], "name": cfg.get("Name"), "comment": cfg.get("Comment") or "",
                **self.normalise(cfg)}

    def _find(self, ctx: Context, fresh: bool = False) -> dict | None:
        used = self._used(ctx)
        for match in (lambda p: self._config_of(p).get("Name") == self.name, lambda p: bool(used) and p["Id"] == used):
            for p in self._list(ctx, "custom", fresh=fresh):  # custom only: a managed policy is nobody's to adopt
                if match(p):
                    return self._norm(p)
        return None

    def read(self, ctx: Context) -> dict | None:
        return self._find(ctx)

    def outputs(self, ctx: Context, live: dict) -> dict:
        return {"id": live["id"]}

    def _full(self, ctx: Context, desired: dict) -> dict:
        return {"Name": self.name, "Comment": desired["comment"], **self.to_config(ctx, desired)}

    def create(self, ctx: Context, desired: dict) -> None:
        cf = _cf(ctx)
        try:
            getattr(cf, self.CREATE)(**{f"{self.model}Config": self._full(ctx, desired)})
        except ClientError as e:
            if error_code(e) != f"{self.model}AlreadyExists":
                raise
            live = self._find(ctx, fresh=True)  # made meanwhile (a re-run after a crash): adopt, correct
            if live is None:
                raise
            if self.diff(desired, live):
                self.update(ctx, desired, live, ())

    def update(self, ctx: Context, desired: dict, live: dict, changes: tuple[FieldChange, ...]) -> None:
        cf = _cf(ctx)

        def attempt() -> None:
            etag = getattr(cf, self.GET_CONFIG)(Id=live["id"])["ETag"]
            getattr(cf, self.UPDATE)(Id=live["id"], IfMatch=etag, **{f"{self.model}Config": self._full(ctx, desired)})

        _stale_etag_safe(attempt)

    def ownership(self, ctx: Context, live: dict) -> own.Ownership:
        # Policies take no tags: ours by the mark in the comment (written at create/adopt); one of
        # ours under another name is renamed in place by the update.
        if _marked(ctx, live.get("comment")):
            return own.Ownership(own.OURS)
        kind = self.service.removeprefix("CloudFront ")
        return _through_distribution(ctx, kind) if live["id"] == self._used(ctx) else own.Ownership(own.FOREIGN)

    def delete(self, ctx: Context, live: dict) -> None:
        _delete_with_etag(ctx, self.GET_CONFIG, self.DELETE, live["id"])


def header_names(node: dict | None) -> list[str]:
    """Header names compare case-insensitively (CloudFront's rule): lower-case, sorted."""
    return sorted({h.lower() for h in items(node)})


def typed(value: Any) -> Any:
    """An int where the API may answer a numeric string (the sandbox's XML does; boto3 parses ints)."""
    return int(value) if isinstance(value, str) and value.isdigit() else value
