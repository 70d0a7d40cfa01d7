"""Error reports that say what failed, never who was asking.

Django's error report (mailed to ``ADMINS`` for a server error, and rendered for
``DEBUG``) lists the request's headers, cookies and form values. For Beacon those are a
tipster's address, user agent, referring page and language, and the tip code and
passphrase they typed. This filter keeps the request's method, path and server fields,
and replaces every header, cookie and form value with stars; field names stay, so the
report still shows what was sent.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, QueryDict
from django.views.debug import SafeExceptionReporterFilter

# Fields of the WSGI environment that describe the server and the request line, not the
# person making the request.
KEPT_META = frozenset(
    {
        "REQUEST_METHOD",
        "PATH_INFO",
        "SCRIPT_NAME",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "wsgi.url_scheme",
        "wsgi.version",
        "wsgi.multiprocess",
        "wsgi.multithread",
        "wsgi.run_once",
    }
)


class PrivateExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: no header, cookie or form value of the requester."""

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        """The request's server fields; every other value starred."""
        if not hasattr(request, "META"):
            return {}
        return {
            key: value if key in KEPT_META else self.cleansed_substitute
            for key, value in request.META.items()
        }

    def get_safe_cookies(self, request: HttpRequest) -> dict[str, Any]:
        """Cookie names only."""
        if not hasattr(request, "COOKIES"):
            return {}
        return dict.fromkeys(request.COOKIES, self.cleansed_substitute)

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        """Form field names only."""
        if request is None:
            return {}
        cleansed = QueryDict(mutable=True)
        for key in request.POST:
            cleansed[key] = self.cleansed_substitute
        return cleansed
