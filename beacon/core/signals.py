"""Audit receivers for sign-in events."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from beacon.core.audit import record_event


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(actor=user, action="login", obj=user, outcome="success")


@receiver(user_logged_out)
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_event(actor=user, action="logout", obj=user, outcome="success")


@receiver(user_login_failed)
def audit_login_failure(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Only the identifier that was tried is kept; never the password.
    tried = str(credentials.get("username") or credentials.get("email") or "")[:254]
    record_event(action="login", actor_label=tried, object_type="core.user", outcome="failure")
