"""The JSON API under /api/v1/; each app adds its router here."""

from django.http import HttpRequest, HttpResponse

from beacon.core.api import router as core_router
from beacon.core.openapi import BeaconAPI
from beacon.evaluation.api import router as evaluation_router
from beacon.forums.api import router as forums_router
from beacon.incidents.api import router as incidents_router
from beacon.insights.api import router as insights_router
from beacon.notify.api import router as notify_router
from beacon.officers.api import router as officers_router
from beacon.partners.api import router as partners_router
from beacon.problems.api import router as problems_router
from beacon.programs.api import router as programs_router
from beacon.reports.api import router as reports_router
from beacon.reports.ratelimit import RateLimited
from beacon.surveys.api import router as surveys_router
from beacon.watch.api import router as watch_router
from beacon.youth.api import router as youth_router

api = BeaconAPI(
    title="Beacon API",
    version="1",
    description="Community policing: communities, areas, reports, incidents and more.",
    urls_namespace="api",
)
api.add_router("/", core_router)
api.add_router("/", incidents_router)
api.add_router("/", reports_router)
api.add_router("/", notify_router)
api.add_router("/", officers_router)
api.add_router("/", watch_router)
api.add_router("/", forums_router)
api.add_router("/", surveys_router)
api.add_router("/", evaluation_router)
api.add_router("/", programs_router)
api.add_router("/", partners_router)
api.add_router("/", youth_router)
api.add_router("/", problems_router)
api.add_router("/", insights_router)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """A throttled caller is told when to come back: 429 with ``Retry-After``."""
    response = api.create_response(request, {"detail": str(exc), "errors": {}}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response
