"""View decorators for staff pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def second_factor_satisfied(request: HttpRequest) -> bool:
    """Whether the signed-in user has passed TOTP where their roles require it."""
    user: Any = request.user
    if not settings.BEACON_REQUIRE_TOTP or not user.needs_second_factor:
        return True
    # OTPMiddleware adds is_verified(); a user object fresh from login() lacks it and
    # has not passed the second factor yet.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a signed-in user who has passed the second factor their roles need."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not second_factor_satisfied(request):
            return redirect(f"{settings.BEACON_TWO_FACTOR_URL}?next={request.get_full_path()}")
        return view(request, *args, **kwargs)

    return wrapper
