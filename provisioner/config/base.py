"""The shared base every section uses: Section (typed getters, key paths, unknown keys) and name checks.

Every error is one ConfigError (``file: key.path: expected X, found Y``). Outside a load that
collects (:func:`collecting`), the first one is raised, as ever. While collecting (``config.load``
does), a Section records each error and answers a stand-in instead: the default when the key has
one, else :class:`Unknown`, so the rest of the file is checked too and ``validate`` can list every
error. A Section made for a value that is not a table (or a required table that is missing) is
*silent*: what it would find below that key is the same mistake, so it records nothing.
"""

from __future__ import annotations

import builtins
import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Literal, NoReturn, overload

from ..errors import ConfigError, Described

DNS_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class Unknown(str):
    """The stand-in for a required string that is missing or wrong (already reported). It equals
    nothing but itself, and the checks that relate it to other values pass (``in_zone``,
    ``check_dns_name``): one mistake is reported once, not again by every check that reads it."""

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__


class Collector:
    """The errors of one load, in the order found: the first per key path (an error at a key, or
    below it, after one was recorded there, follows from the same mistake)."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def add(self, e: ConfigError) -> None:
        if not any(old.file == e.file and _related(old.path, e.path) for old in self.errors):
            self.errors.append(e)


def _related(a: str, b: str) -> bool:
    if a == b:
        return True
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return long.startswith(short + ".") or long.startswith(short + "[")


_collector: ContextVar[Collector | None] = ContextVar("provision_config_errors", default=None)


@contextmanager
def collecting() -> Iterator[Collector]:
    """Within: Sections (and :func:`report`) record errors in the collector instead of raising."""
    c = Collector()
    token = _collector.set(c)
    try:
        yield c
    finally:
        _collector.reset(token)


def active() -> Collector | None:
    return _collector.get()


def report(e: ConfigError) -> None:
    """Raise ``e``, or record it while collecting (then the caller goes on with what it has)."""
    c = _collector.get()
    if c is None:
        raise e
    c.add(e)


class Section:
    """A view of one TOML table that tracks its key path and which keys were consumed."""

    def __init__(self, file: builtins.str, path: builtins.str, data: Any, *, silent: builtins.bool = False,
                 used: set[builtins.str] | None = None) -> None:
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            raise ConfigError(file, path, "a table", data)
        self.data: dict[builtins.str, Any] = data
        self.used: set[builtins.str] = set() if used is None else used
        self.silent = silent

    def _p(self, key: builtins.str) -> builtins.str:
        return f"{self.path}.{key}" if self.path else key

    def _error(self, key: builtins.str, expected: builtins.str, found: Any) -> ConfigError:
        return ConfigError(self.file, self._p(key), expected, found)

    def _report(self, e: ConfigError) -> None:
        if not self.silent or active() is None:
            report(e)

    def fail(self, key: builtins.str, expected: builtins.str, found: Any = None,
             has_found: builtins.bool = True) -> None:
        """``key`` is invalid: raised, or recorded while collecting (the caller goes on with its value)."""
        self._report(ConfigError(self.file, self._p(key), expected, found, has_found=has_found))

    def _get(self, key: builtins.str, default: Any, required: builtins.bool) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise ConfigError(self.file, self._p(key), "a value (the key is required)", has_found=False)
            return default
        return self.data[key]

    def section(self, key: builtins.str, required: builtins.bool = True) -> Section:
        try:
            v = self._get(key, {}, required)
            if not isinstance(v, dict):
                raise ConfigError(self.file, self._p(key), "a table", v)
        except ConfigError as e:
            self._report(e)
            return Section(self.file, self._p(key), {}, silent=True)
        return Section(self.file, self._p(key), v, silent=self.silent)

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
        try:
            v = self._get(key, default, required and default is None)
            if v is None:
                return None
            if not isinstance(v, str):
                raise self._error(key, what or "a string", v)
            if not v and not allow_empty:
                raise self._error(key, what or "a non-empty string", v)
            if choices is not None and v not in choices:
                raise self._error(key, "one of " + ", ".join(repr(c) for c in choices), v)
            if pattern is not None and v and not pattern.match(v):
                raise self._error(key, what or f"a string matching {pattern.pattern}", v)
            return v
        except ConfigError as e:
            self._report(e)
            return default if default is not None else (Unknown() if required else None)

    def bool(self, key: builtins.str, default: builtins.bool | None = None, *,
             required: builtins.bool = False) -> builtins.bool:
        try:
            v = self._get(key, default, required and default is None)
            if not isinstance(v, bool):
                raise self._error(key, "true or false", v)
            return v
        except ConfigError as e:
            self._report(e)
            return bool(default)

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
        try:
            v = self._get(key, default, required and default is None and not optional)
            if v is None and optional:
                return None
            if isinstance(v, bool) or not isinstance(v, int):
                raise self._error(key, "an integer" + _range(lo, hi), v)
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise self._error(key, "an integer" + _range(lo, hi), v)
            return v
        except ConfigError as e:
            self._report(e)
            if default is not None or optional:
                return default
            return lo if lo is not None else 0

    def num(self, key: builtins.str, default: float | None = None, *, required: builtins.bool = False,
            lo: float | None = None, hi: float | None = None) -> float:
        try:
            v = self._get(key, default, required and default is None)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise self._error(key, "a number" + _range(lo, hi), v)
            if v != v or v in (float("inf"), float("-inf")) or (lo is not None and v < lo) or (hi is not None and v > hi):
                raise self._error(key, "a finite number" + _range(lo, hi), v)  # nan/inf: AWS APIs reject them mid-apply
            return float(v)
        except ConfigError as e:
            self._report(e)
            return float(default if default is not None else (lo if lo is not None else 0))

    def strlist(self, key: builtins.str, default: list[builtins.str] | None = None, *, required: builtins.bool = False,
                item: Callable[[builtins.str, builtins.str], None] | None = None, min_len: builtins.int = 0,
                max_len: builtins.int | None = None, unique: builtins.bool = True,
                what: builtins.str = "a list of strings") -> tuple[builtins.str, ...]:
        try:
            v = self._get(key, default, required and default is None)
            if not isinstance(v, list):
                raise self._error(key, what, v)
        except ConfigError as e:
            self._report(e)
            return tuple(default or ())
        if len(v) < min_len or (max_len is not None and len(v) > max_len):
            n = f"{min_len}..{max_len}" if max_len is not None else f"at least {min_len}"
            self.fail(key, f"{what} with {n} entries", Described(f"{len(v)} entries"))
        good: list[builtins.str] = []  # the entries that passed: what the caller goes on with
        for i, s in enumerate(v):
            try:
                if not isinstance(s, str) or not s:
                    raise ConfigError(self.file, f"{self._p(key)}[{i}]", "a non-empty string", s)
                if item is not None:
                    item(f"{self._p(key)}[{i}]", s)
            except ConfigError as e:
                self._report(e)
                continue
            good.append(s)
        if unique and len(set(good)) != len(good):
            dup = sorted({s for s in good if good.count(s) > 1})
            self.fail(key, f"{what} without duplicates", Described(f"duplicate {dup[0]!r}"))
        return tuple(good)

    def tables(self, key: builtins.str) -> list[Section]:
        try:
            v = self._get(key, [], False)
            if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
                raise self._error(key, "an array of tables ([[...]])", v)
        except ConfigError as e:
            self._report(e)
            return []
        return [Section(self.file, f"{self._p(key)}[{i}]", x, silent=self.silent) for i, x in enumerate(v)]

    def done(self) -> None:
        for k in self.data:
            if k not in self.used:
                known = sorted(self.used)
                self._report(ConfigError(
                    self.file, self._p(k), "one of the known keys (" + ", ".join(known) + ")",
                    Described(f"unknown key {k!r}"),
                ))


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
    if isinstance(name, Unknown):  # already reported where it was read
        return name
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
    if isinstance(name, Unknown) or isinstance(zone, Unknown):  # already reported: not a second error
        return True
    return name == zone or name.endswith("." + zone)
