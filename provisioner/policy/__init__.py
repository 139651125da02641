"""IAM / resource policy documents in canonical form, plus a statement-level diff.

Why this exists
---------------
The provisioner is imperative: before calling ``put_role_policy``,
``update_assume_role_policy``, ``put_bucket_policy`` and friends it reads the
live document and only writes when the desired one is *actually* different.
A naive ``desired == live`` comparison is wrong in both directions, because
AWS hands documents back in a different shape from the one that was written.
This package turns any document into one deterministic *canonical* form, so
two documents that IAM treats as the same compare equal, and it explains the
differences between two documents field by field rather than as two blobs.

Standard library only; nothing here talks to AWS.
Modules: ``normalise`` (``parse``, ``canonical``, ``equivalent``, ``dumps``), ``describe``
(``diff``, ``field_changes``), ``_common`` (``PolicyError``, ``DEFAULT_VERSION``, field names).

Input forms (``parse``)
-----------------------
* a ``dict`` (deep-copied, never mutated);
* a JSON string or bytes -- e.g. S3 ``get_bucket_policy()["Policy"]``;
* a URL-encoded JSON string -- IAM ``GetRole`` (``AssumeRolePolicyDocument``),
  ``GetRolePolicy``, ``GetUserPolicy``, ``GetGroupPolicy`` and
  ``GetPolicyVersion`` return the document URL-encoded per RFC 3986 (see the
  IAM API reference for those actions).  Plain JSON is tried first; if that
  fails the string is ``urllib.parse.unquote``-d and parsed again.

Anything else (not JSON, JSON that is not an object, a document without a
``Statement``, a statement without a valid ``Effect`` ...) raises
:class:`PolicyError`, a ``ValueError`` subclass, with a message saying what
was wrong.

Canonicalisation rules (``canonical``) and the IAM behaviour behind them
------------------------------------------------------------------------
References are to the *IAM JSON policy elements reference*
(docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).

* ``Version`` -- kept verbatim; ``"2012-10-17"`` when missing.  A missing
  Version is *not* strictly the same as 2012-10-17 for IAM (it falls back to
  2008-10-17 semantics, where ``${...}`` policy variables are literal text);
  the default follows this project's convention that documents are written
  with 2012-10-17 and a missing Version is an omission, not a choice.
  ``"2008-10-17"`` is preserved, so 2008 vs 2012 is a difference.
* ``Id`` -- kept verbatim when present (an empty ``Id`` is dropped).
* ``Statement`` -- the element may hold a single statement object or an
  array of statements; a single dict becomes a one-element list.  Statement
  order has no meaning in policy evaluation (every matching statement is
  evaluated; an explicit Deny wins), so statements are sorted by the JSON
  dump (``sort_keys=True``) of their canonical form.  Identical duplicate
  statements are *kept*, not merged, so a duplicate shows up as a difference
  (the conservative side: at worst one redundant write).
* ``Sid`` -- kept when present; an empty ``Sid`` is the same as none.
* ``Effect`` -- kept; must be ``"Allow"`` or ``"Deny"``.
* ``Action`` / ``NotAction`` -- a single string is the same as a one-element
  array; order and duplicates do not matter.  The service prefix and action
  name are case-insensitive (``s3:GetObject`` == ``s3:getobject``), so the
  canonical form lowercases them and stores a sorted, de-duplicated list.  Lowercased actions
  are accepted by AWS, so ``dumps()`` output is fine to send.
* ``Resource`` / ``NotResource`` -- string -> sorted unique list.  ARNs are
  (partly) case-sensitive, so case is preserved.
* ``Principal`` / ``NotPrincipal`` -- ``"*"`` stays the string ``"*"``
  (``{"AWS": "*"}`` is kept distinct: it is a different spelling that AWS
  returns as written, and reporting it as a difference is the safe side).
  ``{"AWS": "arn"}`` -> ``{"AWS": ["arn"]}``; every principal type's values
  become a sorted unique list.  An AWS principal given as a bare 12-digit
  account id is rewritten to ``arn:aws:iam::<id>:root``: IAM accepts the
  bare id and stores/returns the root-ARN form.
* ``Condition`` -- operator -> condition key -> values.  A single value is
  the same as a one-element array, and values are sorted and de-duplicated
  (multiple values for one key are ORed, so order cannot matter).  JSON
  booleans and numbers become their JSON text (``true`` -> ``"true"``),
  because IAM evaluates condition values as strings.  Condition key names
  are case-insensitive, so keys are lowercased; operator names keep their
  case and values keep theirs (``StringEquals`` is case-sensitive on values).
  Empty operator blocks and an empty ``Condition`` are dropped (they impose
  nothing).  Two keys in one operator block that differ only by case are
  ambiguous and raise :class:`PolicyError` rather than being merged.
* Unknown statement or document keys are kept unchanged.

Principal rewriting by S3 and friends (``principal_aliases``)
-------------------------------------------------------------
Some services store a principal in a different form than the one written.
S3, for example, relates a CloudFront origin access identity written as
``arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWR...``
to its ``{"CanonicalUser": "<64 hex chars>"}`` form, and either may come
back; IAM replaces the ARN of a deleted role by its unique id (``AROA...``).
``canonical()`` cannot know these mappings, so callers that do may pass
``principal_aliases``: a mapping from an alternative principal string to the
preferred one, e.g. ``{"<canonical user id>": "arn:aws:iam::cloudfront:user/
CloudFront Origin Access Identity E2QWR..."}``.  It is applied to principal
values of every type; when an aliased value's target is an ARN (starts with
``arn:``), the value moves under the ``"AWS"`` principal type (except under
``"Federated"``, whose identity-provider ARNs stay there).  Aliases are
applied (one level, not transitively) before the account-id -> root-ARN
rewrite.

Diff (``diff``)
---------------
``diff(desired, live)`` returns human-readable lines describing what applying
*desired* would change in *live*; it is empty iff ``equivalent(desired,
live)``.  Conventions: ``old -> new`` is ``live -> desired``; ``+ x`` means x
is in desired but not live (would be added), ``- x`` the reverse;
``(absent)`` marks an element present on one side only.

Statements are paired in this order: identical canonical statements first
(they produce no output); then by ``Sid`` when both sides carry the same Sid;
then, among the rest, by equal ``(Effect, Principal, NotPrincipal)``, picking
the live statement with the fewest differing fields; finally, leftovers that
differ in exactly one top-level field (e.g. only the Effect or only the
Principal changed) are paired.  What is still unpaired is reported as
``Statement[...]: missing ...`` (desired only) or ``Statement[...]:
unexpected ...`` (live only).  Labels are ``Statement[Sid=X]`` when the
statement has a Sid, otherwise ``Statement[i]`` with ``i`` the position in
the document as given (desired's position, or live's for unexpected ones).

Examples::

    Version: 2008-10-17 -> 2012-10-17
    Statement[Sid=AllowPublish].Action: + s3:putobjectacl
    Statement[Sid=Trust].Condition.StringLike.token.actions.githubusercontent.com:sub: ["*"] -> ["repo:org/repo:*"]
    Statement[2]: missing {"Action":["s3:getobject"],"Effect":"Allow","Resource":["*"]}
"""

from __future__ import annotations

from ._common import DEFAULT_VERSION, PolicyError
from .describe import diff, field_changes  # noqa: F401  (field_changes: used by the reconcilers)
from .normalise import canonical, dumps, equivalent, parse

__all__ = [
    "DEFAULT_VERSION",
    "PolicyError",
    "canonical",
    "diff",
    "dumps",
    "equivalent",
    "parse",
]
