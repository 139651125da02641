"""The shared base every section uses: Section (typed getters, key paths, unknown keys) and name checks."""

from __future__ import annotations

import builtins
import re
from typing import Any, Callable, Literal, NoReturn, overload

from ..errors import ConfigError, Described

DNS_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class Section:
    """A view of one TOML table that tracks its key path and which keys were consumed."""

    def __init__(self, file: builtins.str, path: builtins.str, data: Any) -> None:
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            raise ConfigError(file, path, "a table", data)
        self.data: dict[builtins.str, Any] = data
        self.used: set[builtins.str] = set()

    def _p(self, key: builtins.str) -> builtins.str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: builtins.str, expected: builtins.str, found: Any = None,
             has_found: builtins.bool = True) -> NoReturn:
        raise ConfigError(self.file, self._p(key), expected, found, has_found=has_found)

    def _get(self, key: builtins.str, default: Any, required: builtins.bool) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise ConfigError(self.file, self._p(key), "a value (the key is required)", has_found=False)
            return default
        return self.data[key]

    def section(self, key: builtins.str, required: builtins.bool = True) -> Section:
        v = self._get(key, {}, required)
        return Section(self.file, self._p(key), v)

    # A method named str/int/bool shadows the builtin in this class body: annotations say builtins.*.
    @overload
    def str(self, key: builtins.str, default: builtins.str, *, required: builtins.bool = ...,
            pattern: re.Pattern[builtins.str] | None = ..., choices: tuple[builtins.str, ...] | None = ...,
            what: builtins.str | None = ..., allow_empty: builtins.bool = ...) -> builtins.str: ...

    @overload
    def str(self, key: builtins.str, default: None = ..., *, required: Literal[True],
            pattern: re.Pattern[builtins.str] | None = ..., choices: tuple[builtins.str, ...] | None = ...,
            what: builtins.str | None = ..., allow_empty: builtins.bool = ...) -> builtins.str: ...

    @overload
    def str(self, key: builtins.str, default: None = ..., *, required: builtins.bool = ...,
            pattern: re.Pattern[builtins.str] | None = ..., choices: tuple[builtins.str, ...] | None = ...,
            what: builtins.str | None = ..., allow_empty: builtins.bool = ...) -> builtins.str | None: ...

    def str(self, key: builtins.str, default: builtins.str | None = None, *, required: builtins.bool = False,
            pattern: re.Pattern[builtins.str] | None = None, choices: tuple[builtins.str, ...] | None = None,
            what: builtins.str | None = None, allow_empty: builtins.bool = False) -> builtins.str | None:
        v = self._get(key, default, required and default is None)
        if v is None:
            return None
        if not isinstance(v, str):
            self.fail(key, what or "a string", v)
        if not v and not allow_empty:
            self.fail(key, what or "a non-empty string", v)
        if choices is not None and v not in choices:
            self.fail(key, "one of " + ", ".join(repr(c) for c in choices), v)
        if pattern is not None and v and not pattern.match(v):
            self.fail(key, what or f"a string matching {pattern.pattern}", v)
        return v

    def bool(self, key: builtins.str, default: builtins.bool | None = None, *,
             required: builtins.bool = False) -> builtins.bool:
        v = self._get(key, default, required and default is None)
        if not isinstance(v, bool):
            self.fail(key, "true or false", v)
        return v

    @overload
    def int(self, key: builtins.str, default: builtins.int | None = ..., *, required: builtins.bool = ...,
            lo: builtins.int | None = ..., hi: builtins.int | None = ...,
            optional: Literal[False] = ...) -> builtins.int: ...

    @overload
    def int(self, key: builtins.str, default: builtins.int | None = ..., *, required: builtins.bool = ...,
            lo: builtins.int | None = ..., hi: builtins.int | None = ...,
            optional: builtins.bool) -> builtins.int | None: ...

    def int(self, key: builtins.str, default: builtins.int | None = None, *, required: builtins.bool = False,
            lo: builtins.int | None = None, hi: builtins.int | None = None,
            optional: builtins.bool = False) -> builtins.int | None:
        v = self._get(key, default, required and default is None and not optional)
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(key, "an integer" + _range(lo, hi), v)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(key, "an integer" + _range(lo, hi), v)
        return v

    def num(self, key: builtins.str, default: float | None = None, *, required: builtins.bool = False,
            lo: float | None = None, hi: float | None = None) -> float:
        v = self._get(key, default, required and default is None)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(key, "a number" + _range(lo, hi), v)
        if v != v or v in (float("inf"), float("-inf")) or (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(key, "a finite number" + _range(lo, hi), v)  # nan/inf: AWS APIs reject them mid-apply
        return float(v)

    def strlist(self, key: builtins.str, default: list[builtins.str] | None = None, *, required: builtins.bool = False,
                item: Callable[[builtins.str, builtins.str], None] | None = None, min_len: builtins.int = 0,
                max_len: builtins.int | None = None, unique: builtins.bool = True,
                what: builtins.str = "a list of strings") -> tuple[builtins.str, ...]:
        v = self._get(key, default, required and default is None)
        if not isinstance(v, list):
            self.fail(key, what, v)
        if len(v) < min_len or (max_len is not None and len(v) > max_len):
            n = f"{min_len}..{max_len}" if max_len is not None else f"at least {min_len}"
            self.fail(key, f"{what} with {n} entries", Described(f"{len(v)} entries"))
        for i, s in enumerate(v):
            if not isinstance(s, str) or not s:
                raise ConfigError(self.file, f"{self._p(key)}[{i}]", "a non-empty string", s)
            if item is not None:
                item(f"{self._p(key)}[{i}]", s)
        if unique and len(set(v)) != len(v):
            dup = sorted({s for s in v if v.count(s) > 1})
            self.fail(key, f"{what} without duplicates", Described(f"duplicate {dup[0]!r}"))
        return tuple(v)

    def tables(self, key: builtins.str) -> list[Section]:
        v = self._get(key, [], False)
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            self.fail(key, "an array of tables ([[...]])", v)
        return [Section(self.file, f"{self._p(key)}[{i}]", x) for i, x in enumerate(v)]

    def done(self) -> None:
        for k in self.data:
            if k not in self.used:
                known = sorted(self.used)
                raise ConfigError(
                    self.file, self._p(k), "one of the known keys (" + ", ".join(known) + ")",
                    Described(f"unknown key {k!r}"),
                )


def _range(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f" between {lo} and {hi}"
    if lo is not None:
        return f" >= {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


def bad(file: str, path: str, expected: str, found: Any) -> NoReturn:
    raise ConfigError(file, path, expected, found)


def check_dns_name(file: str, path: str, name: str) -> str:
    n = name.lower().rstrip(".")
    if name != name.strip() or len(n) > 253 or "." not in n:
        raise ConfigError(file, path, "a fully qualified domain name", name)
    labels = n.split(".")
    for i, label in enumerate(labels):
        if label == "*" and i == 0:
            continue
        if not DNS_LABEL_RE.match(label) and not (label.startswith("_") and DNS_LABEL_RE.match(label[1:])):
            raise ConfigError(file, path, "a fully qualified domain name", name)
    return n


def in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)
