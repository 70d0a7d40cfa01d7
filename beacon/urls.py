"""Beacon's URL map: pages per app, the JSON API under /api/v1/, and the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from beacon.api import api

if settings.BEACON_REQUIRE_TOTP:
    # The admin asks for the TOTP code on its own sign-in form.
    admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("open311/v2/", include("beacon.reports.open311_urls")),
    path("", include("beacon.reports.urls")),
    path("", include("beacon.notify.urls")),
    path("", include("beacon.officers.urls")),
    path("", include("beacon.watch.urls")),
    path("", include("beacon.incidents.urls")),
    path("", include("beacon.forums.urls")),
    path("", include("beacon.surveys.urls")),
    path("", include("beacon.evaluation.urls")),
    path("", include("beacon.programs.urls")),
    path("", include("beacon.partners.urls")),
    path("", include("beacon.youth.urls")),
    path("", include("beacon.problems.urls")),
    path("", include("beacon.insights.urls")),
    path("", include("beacon.core.urls")),
]
