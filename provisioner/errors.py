"""The small error vocabulary of the tool and its exit codes (one place)."""

from __future__ import annotations

EXIT_OK = 0  # no changes / no drift / success
EXIT_ERROR = 1  # bad input, AWS error, refused action
EXIT_CHANGES = 2  # plan has changes / drift found (Terraform's -detailed-exitcode)


class ProvisionError(Exception):
    """An error the CLI reports as one line and exit code 1 (never a traceback)."""


class ConfigError(ProvisionError):
    """The desired state file is invalid. Raised before any AWS call."""

    def __init__(self, file: str, path: str, expected: str, found: object = None, *, has_found: bool = True):
        self.file = file
        self.path = path
        self.expected = expected
        self.found = found
        where = f"{file}: {path}" if path else file
        msg = f"{where}: expected {expected}"
        if has_found:
            msg += f", found {_show(found)}"
        self.found_text = _show(found) if has_found else None
        #: every error of the file, this one first (``config.load`` collects them all; ``validate`` lists them)
        self.errors: list[ConfigError] = [self]
        super().__init__(msg)


class StepError(ProvisionError):
    """An AWS step failed: 'creating CloudFront distribution (cdn): cause'."""

    def __init__(self, action: str, address: str, cause: BaseException | str):
        self.action = action
        self.address = address
        self.cause = cause
        super().__init__(f"{action} {address}: {_cause(cause)}")


class PreconditionError(ProvisionError):
    """Something outside the tool is missing or in the way (hosted zone missing, foreign resource...)."""


def _cause(cause: BaseException | str) -> str:
    if isinstance(cause, str):
        return cause
    resp = getattr(cause, "response", None)
    if isinstance(resp, dict) and "Error" in resp:
        err = resp["Error"]
        return f"{err.get('Code', '?')}: {err.get('Message', '')}".rstrip(": ")
    return f"{type(cause).__name__}: {cause}"


class Described(str):
    """A 'found' that is a description (\"unknown key 'x'\"), shown as is rather than quoted."""


def _show(value: object) -> str:
    if isinstance(value, Described):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return f"{str(value).lower()} (boolean)"
    if isinstance(value, int):
        return f"{value} (integer)"
    if isinstance(value, float):
        return f"{value} (float)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "nothing"
    return repr(value)
