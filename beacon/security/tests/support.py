"""Shared set-up for the security proofs: a world holding a row of every model, signed-in
identities for every role, and in-process requests through Beacon's real WSGI application.

The world is :func:`beacon.core.testing.make_world` (communities "north" and "south" with
a member of every role in each) plus one row of every community-scoped model in both
communities, made by the factories each app registers for the access matrix. A new app
that registers its factories is therefore seeded here without any change.
"""

from __future__ import annotations

import importlib
import re
import secrets
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, models
from django.test import Client

from beacon.core.models import User
from beacon.core.roles import Role
from beacon.core.testing import ACCESS_FACTORIES, World, verified_login

ANONYMOUS = "anonymous"
# Every identity the proofs act as: the public, then each role of a community member.
ROLES: tuple[str, ...] = (ANONYMOUS, *Role.values)


def import_app_testing() -> None:
    """Import every Beacon app's ``testing`` module so its access factories register."""
    for app in settings.INSTALLED_APPS:
        if not app.startswith("beacon."):
            continue
        try:
            importlib.import_module(f"{app}.testing")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.testing":
                raise


def seed_every_model(world: World) -> None:
    """One row of every community-scoped model in both communities of ``world``."""
    import_app_testing()
    for community in (world.community, world.other_community):
        for factory in ACCESS_FACTORIES.values():
            factory(community, world)


def materialise_files(*, fill_blank: bool = False) -> None:
    """Give every file field of the seeded rows a file in storage (and, with
    ``fill_blank``, a file to the blank ones: an officer's photo, say).

    Factories name files without writing them; a page serving one would fail on the
    missing file, which proves nothing about who may see it.
    """
    model: Any
    for model in apps.get_models():
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        for column in file_fields:
            if fill_blank:
                for pk in model.objects.filter(**{column.name: ""}).values_list("pk", flat=True):
                    name = f"seeded/{model._meta.label_lower}-{pk}.jpg"
                    model.objects.filter(pk=pk).update(**{column.name: name})
            for name in model.objects.exclude(**{column.name: ""}).values_list(
                column.name, flat=True
            ):
                if name and not default_storage.exists(name):
                    default_storage.save(name, ContentFile(b"seeded file"))


def user_for(world: World, role: str) -> User | None:
    """The member of the first community holding ``role`` (None for the public)."""
    return None if role == ANONYMOUS else world.members[role]


@dataclass
class Identity:
    """Cookies and headers that make requests as one user, CSRF token included."""

    role: str
    user: User | None
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def identity(world: World, role: str) -> Identity:
    """Sign in as the member holding ``role`` (second factor passed) and return the
    session cookie, plus a CSRF cookie and the matching header, as a browser sends them.
    """
    user = user_for(world, role)
    # A CSRF secret is 32 alphanumeric characters; the header repeats the cookie's value.
    token = secrets.token_hex(16)
    found = Identity(role, user, {"csrftoken": token}, {"X-CSRFToken": token})
    if user is not None:
        client = Client()
        verified_login(client, user)
        found.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[
            settings.SESSION_COOKIE_NAME
        ].value
    return found


@dataclass
class ServerErrors:
    """Tracebacks of the exceptions Django turned into 500 responses."""

    tracebacks: list[str] = field(default_factory=list)

    def record(self, sender: Any, request: Any = None, **kwargs: Any) -> None:
        self.tracebacks.append(traceback.format_exc())

    def take(self) -> list[str]:
        """The tracebacks since the last call."""
        taken, self.tracebacks = self.tracebacks, []
        return taken


@contextmanager
def in_process_requests() -> Iterator[ServerErrors]:
    """Let requests run through the WSGI application inside a test's transaction.

    Django closes "old" database connections when a request starts and finishes; inside
    a test the connection is in the test's transaction, so closing it would throw the
    seeded data away. Django's own test client detaches the same handler for the same
    reason. Exceptions behind 500 responses are collected for the failure messages.
    """
    errors = ServerErrors()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(errors.record)
    try:
        yield errors
    finally:
        got_request_exception.disconnect(errors.record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# --- sentinels ------------------------------------------------------------------------

# Free-text fields hold what people wrote; codes, keys and hashes drive behaviour and
# keep their values, or pages would break for reasons that prove nothing.
_NOT_FREE_TEXT = re.compile(
    r"(^|_)(code|codes|slug|token|key|hash|prefix|kind|status|type|timezone|role|"
    r"period|topic|channel|language|format|url|link|path|file|image|method|mode|"
    r"source|visibility|action|outcome|measure|offence|category|group|crs|profile)($|_)"
)
# The fields of a tipster (who reported, how to reach them, where they were) and of a
# minor: no partner or public answer may ever carry them, whatever row they sit on.
TIPSTER_FIELDS = {
    "reports.report": ("contact_name", "contact_email", "contact_phone", "address"),
}
MINOR_APP = "youth"


@dataclass(frozen=True)
class Planted:
    """Where one sentinel was written."""

    model: type[Any]
    pk: Any
    field: str
    protected: bool  # a tipster's or a minor's field: never for partners or the public


def _free_text_fields(model: type[Any]) -> list[Any]:
    found = []
    for column in model._meta.concrete_fields:
        if not isinstance(column, (models.CharField, models.TextField)) or column.is_relation:
            continue
        if column.choices or column.unique or isinstance(column, models.SlugField):
            continue
        if _NOT_FREE_TEXT.search(column.name):
            continue
        if isinstance(column, models.CharField) and (column.max_length or 0) < 24:
            continue
        found.append(column)
    return found


def plant_sentinels() -> dict[str, Planted]:
    """Write a unique marker into the free text of every row the public may not see, and
    into every tipster and minor field of every row; return where each one went.
    """
    from beacon.core.access import CommunityScoped
    from beacon.core.models import AuditEvent

    planted: dict[str, Planted] = {}
    anonymous = AnonymousUser()
    for model in apps.get_models():
        if not issubclass(model, CommunityScoped) or model is AuditEvent:
            continue  # audit rows are append-only and hash-chained
        label = model._meta.label_lower
        protected_fields = set(TIPSTER_FIELDS.get(label, ()))
        minors = model._meta.app_label == MINOR_APP
        public = set(model.objects.visible_to(anonymous).values_list("pk", flat=True))
        for obj in model.objects.order_by("pk"):
            changes: dict[str, str] = {}
            for column in _free_text_fields(model):
                protected = minors or column.name in protected_fields
                if obj.pk in public and not protected:
                    continue
                marker = f"Zq{len(planted):04d}Sentinel"
                if isinstance(column, models.EmailField):
                    marker = f"{marker.lower()}@example.org"
                changes[column.attname] = marker
                planted[marker] = Planted(model, obj.pk, column.name, protected)
            if changes:
                model.objects.filter(pk=obj.pk).update(**changes)
    return planted
