"""Signed links for people without an account.

Each link carries only a registration id, signed with the site's secret and a salt per
purpose, so a confirmation link cannot be replayed as a check-in link and no address
appears in a URL (URLs end up in logs).
"""

from __future__ import annotations

from django.core import signing

CONFIRM = "beacon.programs.confirm"
MANAGE = "beacon.programs.manage"
CHECK_IN = "beacon.programs.check-in"
FEEDBACK = "beacon.programs.feedback"
FEED = "beacon.programs.person-feed"

# A confirmation link is only good for a week; the others live as long as the event.
CONFIRM_MAX_AGE = 7 * 24 * 3600


class BadToken(ValueError):
    """The link is malformed, altered or expired."""


def make(purpose: str, registration_id: int) -> str:
    """A URL-safe signed token for ``registration_id`` and ``purpose``."""
    return signing.dumps(registration_id, salt=purpose, compress=False)


def read(purpose: str, token: str, max_age: int | None = None) -> int:
    """The registration id in ``token``, or :class:`BadToken`."""
    try:
        value = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.SignatureExpired:
        raise BadToken("This link has expired.") from None
    except signing.BadSignature:
        raise BadToken("This link is not valid.") from None
    if not isinstance(value, int):
        raise BadToken("This link is not valid.")
    return value
