"""Access tests generated for every community-scoped model, role and action.

The expected answer comes from the model's declared rules; the test proves that the
queryset (``restrict``), ``can`` and ``get_object_or_deny`` all implement them, that
outsiders get 404 and members without the right get 403.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from beacon.core.access import PUBLIC, CommunityScoped, can, get_object_or_deny
from beacon.core.testing import ACCESS_FACTORIES, make_world

for app in settings.INSTALLED_APPS:
    if app.startswith("beacon."):
        try:
            importlib.import_module(f"{app}.testing")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.testing":
                raise

SCOPED_MODELS = sorted(
    (m for m in apps.get_models() if issubclass(m, CommunityScoped)),
    key=lambda m: m._meta.label,
)


def _matches(model: Any, q: Q, obj: Any) -> bool:
    return bool(model.objects.filter(q, pk=obj.pk).exists())


def test_every_scoped_model_has_an_access_factory() -> None:
    missing = [m._meta.label for m in SCOPED_MODELS if m not in ACCESS_FACTORIES]
    assert not missing, f"register an access_factory in <app>/testing.py for: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m._meta.label)
def test_access_matrix(model: Any) -> None:
    world = make_world()
    obj: Any = ACCESS_FACTORIES[model](world.community, world)
    rules = model.access_rules
    failures: list[str] = []
    for action in rules.actions():
        roles = rules.roles_for(action)
        public = PUBLIC in roles and _matches(model, model.public_q(), obj)
        for role, user in world.members.items():
            expected = (
                public
                or (role in roles and _matches(model, model.member_q(user, action), obj))
                or _matches(model, model.grant_q(user, action), obj)
            )
            got = can(user, action, obj)
            if got != expected:
                failures.append(f"{role} {action}: expected {expected}, got {got}")
            if not expected:
                try:
                    get_object_or_deny(model.objects.all(), user, action, pk=obj.pk)
                    failures.append(f"{role} {action}: get_object_or_deny let it through")
                except PermissionDenied:
                    pass
                except Http404:
                    failures.append(f"{role} {action}: member got 404 instead of 403")
        for role, outsider in world.outsiders.items():
            expected = public or _matches(model, model.grant_q(outsider, action), obj)
            if can(outsider, action, obj) != expected:
                failures.append(f"outsider {role} {action}: expected {expected}")
            if not expected:
                with pytest.raises(Http404):
                    get_object_or_deny(model.objects.all(), outsider, action, pk=obj.pk)
        if can(world.anonymous, action, obj) != public:
            failures.append(f"anonymous {action}: expected {public}")
    assert not failures, f"{model._meta.label}: " + "; ".join(failures)


@pytest.mark.django_db
def test_superuser_sees_everything() -> None:
    from beacon.core.models import User

    world = make_world()
    root = User.objects.create_superuser("root@test", "x")
    for model in SCOPED_MODELS:
        obj: Any = ACCESS_FACTORIES[model](world.other_community, world)
        assert can(root, "view", obj), model._meta.label
