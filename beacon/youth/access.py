"""Access to safeguarded records: 404 for everyone outside the program, and audited.

Unlike other records, even the existence of a minor's record is sensitive, so anyone
who is not on the program's staff (or a community administrator, for oversight) gets
404 rather than 403, officers and partners of the same community included.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from beacon.core.access import deny, get_object_or_deny, member_community_ids
from beacon.youth import services
from beacon.youth.models import ADMINS, YouthProgram


def get_safeguarded_or_404(
    queryset: QuerySet[Any], user: Any, action: str = "view", **lookup: Any
) -> Any:
    """Fetch a safeguarded record for ``action`` or raise 404; the access is audited.

    ``get_object_or_deny`` answers 403 to members without the right; here that becomes
    404 so nobody outside the program learns that a minor's record exists. The refusal
    itself is audited by ``get_object_or_deny``.
    """
    try:
        obj = get_object_or_deny(queryset, user, action, **lookup)
    except PermissionDenied:
        raise Http404 from None
    services.audit_access(user, obj, action)
    return obj


def may_open(user: Any, program: YouthProgram) -> bool:
    """Program staff, community administrators (oversight) and superusers."""
    if getattr(user, "is_superuser", False):
        return True
    if services.is_program_staff(user, program):
        return True
    return bool(
        member_community_ids(user, ADMINS).filter(community_id=program.community_id).exists()
    )


def refuse_program(user: Any, program: YouthProgram) -> NoReturn:
    """Refuse a program's page with 404, as for its records, and audit the refusal."""
    try:
        deny(user, "view", program)
    except PermissionDenied:
        raise Http404 from None
