"""SNS: subscriptions on the alarm topic that are not ours (UNEXPECTED, reported, never removed).

Ours are the email endpoints the desired state names or the topic's record tag lists (``sns``);
anything else (an on-call pager, an https/lambda/sqs endpoint someone subscribed) receives the
alarms too, so drift names it: ``subscriptions[<protocol>:<endpoint>]``. SNS subscriptions take no
tags and the desired state cannot say who may receive alarms besides its addresses, so apply leaves
them in place (unsubscribe by hand, or accept one with ``[drift] ignore``). An https endpoint is
shown without its query string (it may carry a token).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

NOT_OURS = "a subscription this tool did not make: reported, never removed"


def _endpoint(protocol: str, endpoint: str) -> str:
    if protocol in ("http", "https"):
        u = urlsplit(endpoint)
        return urlunsplit((u.scheme, u.hostname or "", u.path, "", ""))
    return endpoint


def others(subscriptions: list[dict], ours: set[str]) -> dict:
    """``{"undeclared": ..., "undeclared_kept": ...}`` for every subscription not in ``ours`` (lower-cased
    email endpoints we manage)."""
    found: dict[str, str] = {}
    for s in subscriptions:
        protocol, endpoint = s.get("Protocol", "?"), s.get("Endpoint", "")
        if protocol == "email" and endpoint.lower() in ours:
            continue
        found[f"subscriptions[{protocol}:{_endpoint(protocol, endpoint)}]"] = s.get("SubscriptionArn", "")
    return {"undeclared": found, "undeclared_kept": {p: NOT_OURS for p in found}}
