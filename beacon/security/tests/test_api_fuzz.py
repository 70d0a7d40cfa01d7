"""API fuzzing: schemathesis against /api/v1/openapi.json and Open311, as every role.

Every operation of the JSON API (loaded from the running application's own
``/api/v1/openapi.json``) and of Open311 GeoReport v2 (described in
``open311_document.py``) is called with generated requests, valid and invalid, as the
public and as a member holding each role, through Beacon's real WSGI application against
a test database holding a row of every model in two communities. Each answer must:

- never be a server error (5xx);
- use a documented status code and content type, and match the documented schema;
- for an operation that declares authentication, refuse a caller without a session
  (401 or 403), and refuse the same request replayed without the session cookie
  whenever a signed-in caller succeeded.

Generated path parameters are mixed with the ids and slugs of real rows, so requests
reach the handlers instead of stopping at "not found". The run is deterministic
(``derandomize``). ``BEACON_FUZZ_EXAMPLES`` sets the examples per operation and role:
a few in the normal test run, many more in ``make fuzz``.
"""

from __future__ import annotations

import json
import os
from typing import Any, get_args
from urllib.parse import unquote, urlsplit

import schemathesis
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from beacon.api import api
from beacon.core.access import CommunityScoped
from beacon.core.testing import BeaconTestCase
from beacon.reports.models import Report
from beacon.reports.open311 import create_key
from beacon.security.tests.open311_document import DOCUMENT as OPEN311_DOCUMENT
from beacon.security.tests.support import (
    ROLES,
    Identity,
    ServerErrors,
    identity,
    in_process_requests,
    seed_every_model,
)
from beacon.surveys.models import Survey
from beacon.wsgi import application

API_DOCUMENT = "/api/v1/openapi.json"
OPEN311_LOCATION = "open311_document.py"
EXAMPLES = int(os.environ.get("BEACON_FUZZ_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
REFUSED = {401, 403}


def _field_values(model: Any, name: str) -> list[Any]:
    return list(model.objects.order_by("pk").values_list(name, flat=True))


class KnownValues:
    """Real values for parameter names, taken from the seeded rows.

    ``<thing>_id`` takes the ids of every model whose name ends in ``thing`` (so
    ``item_id`` finds action items and ``import_id`` incident imports); any other name
    takes the slugs of a model of that name (``group``). New apps' parameters are found
    the same way.
    """

    def __init__(self, open311_key: str) -> None:
        self.models = [m for m in apps.get_models() if issubclass(m, CommunityScoped)]
        self.values: dict[str, list[Any]] = {
            "slug": ["north", "south"],
            "jurisdiction_id": ["north", "south"],
            "service_code": ["graffiti", "drugs"],
            "api_key": [open311_key],
            "service_request_id": [str(pk) for pk in _field_values(Report, "pk")],
            "token": [
                *_field_values(Report, "token"),
                *(_field_values(Survey, "token")),
            ],
        }

    def __call__(self, name: str) -> list[Any]:
        if name not in self.values:
            found: list[Any] = []
            base = name.removesuffix("_id").replace("_", "")
            for model in self.models:
                if not (model._meta.model_name or "").endswith(base):
                    continue
                if name.endswith("_id"):
                    found.extend(_field_values(model, "pk"))
                elif any(f.name == "slug" for f in model._meta.concrete_fields):
                    found.extend(_field_values(model, "slug"))
            self.values[name] = found
        return self.values[name]


def _with_known(case: Any, data: st.DataObject, known: KnownValues) -> None:
    """Swap some generated parameters for real values, so handlers get past "not found"."""
    containers: list[dict[str, Any]] = [case.path_parameters or {}, case.query or {}]
    if isinstance(case.body, dict):
        containers.append(case.body)
    for container in containers:
        for name in list(container):
            choices = known(name)
            use_real: bool = data.draw(st.booleans(), label=f"real {name}")
            if choices and use_real:
                container[name] = data.draw(st.sampled_from(choices), label=name)


def _routed(response: Any) -> bool:
    """Whether the request's path is in Beacon's URL map."""
    try:
        resolve(unquote(urlsplit(response.request.url).path))
    except Resolver404:
        return False
    return True


def _secured(operation: Any) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("security") or operation.schema.raw_schema.get("security"))


class ApiFuzzTests(BeaconTestCase):
    """Fuzz each API document as every identity."""

    open311_key: str
    operations: list[tuple[Any, Any]]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_every_model(cls.world)
        cls.open311_key = create_key(cls.community, "Fuzzing partner")[1]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        with in_process_requests():
            api_schema = schemathesis.openapi.from_wsgi(API_DOCUMENT, application)
        open311 = schemathesis.openapi.from_dict(OPEN311_DOCUMENT)
        open311.app = application
        open311.location = OPEN311_LOCATION
        # Each operation's strategies are built once and shared by every role's test.
        cls.operations = []
        for schema in (api_schema, open311):
            for result in schema.get_all_operations():
                operation = result.ok()  # type: ignore[union-attr]
                strategy = st.one_of(
                    operation.as_strategy(GenerationMode.POSITIVE),
                    operation.as_strategy(GenerationMode.NEGATIVE),
                )
                cls.operations.append((operation, strategy))

    def setUp(self) -> None:
        super().setUp()
        requests = in_process_requests()
        self.errors: ServerErrors = requests.__enter__()
        self.addCleanup(requests.__exit__, None, None, None)

    def fuzz(self, document: str) -> None:
        """Fuzz every operation of ``document``, sending each generated request as every
        identity (building and generating cases costs more than sending them).
        """
        identities = [identity(self.world, role) for role in ROLES]
        known = KnownValues(self.open311_key)
        operations = [(o, s) for o, s in self.operations if o.schema.location == document]
        failures: list[str] = []
        for operation, strategy in operations:
            failures.extend(self._fuzz_operation(operation, strategy, identities, known))
        assert operations, f"nothing to fuzz in {document}"
        assert not failures, f"{len(failures)} of {len(operations)} operations failed:\n\n" + (
            "\n\n".join(failures)
        )

    def _fuzz_operation(
        self, operation: Any, strategy: Any, identities: list[Identity], known: KnownValues
    ) -> list[str]:
        secured = _secured(operation)
        problems: dict[str, str] = {}

        def call(
            case: Any, generated: dict[str, Any], cookies: dict[str, str], who: Identity
        ) -> Any:
            # Rate limits have their own tests; here they would hide the handlers.
            cache.clear()
            # A call writes the cookies it sent into the case; start from the generated
            # ones each time, or one identity's session would ride on the next request.
            case.cookies = dict(generated)
            return case.call(cookies=cookies, headers=who.headers)

        def send(case: Any, generated: dict[str, Any], who: Identity) -> None:
            response = call(case, generated, who.cookies, who)
            tracebacks = self.errors.take()
            label = f"as {who.role}: {case.method} {case.formatted_path}"
            if tracebacks:
                problems.setdefault("5xx", f"{label}\n{tracebacks[-1]}")
            if not _routed(response):
                # A generated path outside the URL map (an invalid format, a "/" in a
                # segment) is Django's plain 404 page: nothing of this operation ran.
                if response.status_code != 404:
                    problems.setdefault("unrouted", f"{label}: {response.status_code}")
                return
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                for failure in group.exceptions:
                    key = f"{failure.title} {response.status_code}"
                    problems.setdefault(key, f"{label}\n{group}")
            if secured and who.user is None and response.status_code not in REFUSED:
                problems.setdefault(
                    "auth", f"{label}: {response.status_code} without a session (want 401/403)"
                )
            if secured and who.user is not None and 200 <= response.status_code < 300:
                cookies = dict(who.cookies)
                cookies.pop(settings.SESSION_COOKIE_NAME)
                replay = call(case, generated, cookies, who)
                if replay.status_code not in REFUSED:
                    problems.setdefault(
                        "auth-replay",
                        f"{label}: {replay.status_code} when replayed without the session",
                    )

        @hypothesis_settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy, data=st.data())
        def run(case: Any, data: st.DataObject) -> None:
            _with_known(case, data, known)
            # Sessions and CSRF tokens are the identities' own, never generated ones.
            generated = {
                name: value
                for name, value in (case.cookies or {}).items()
                if name not in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
            }
            for who in identities:
                send(case, generated, who)

        run()
        if not problems:
            return []
        return [f"== {operation.label}\n" + "\n".join(problems.values())]

    def test_json_api(self) -> None:
        self.fuzz(API_DOCUMENT)

    def test_open311(self) -> None:
        self.fuzz(OPEN311_LOCATION)


def _models_of(annotation: Any, found: dict[str, set[type[BaseModel]]]) -> None:
    # Ninja's own wrappers (path, query and body parameters) are inlined, never named.
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation.__module__.startswith("beacon.")
    ):
        if annotation in found.setdefault(annotation.__name__, set()):
            return
        found[annotation.__name__].add(annotation)
        for field in annotation.model_fields.values():
            _models_of(field.annotation, found)
    for argument in get_args(annotation):
        _models_of(argument, found)


def _shape(schema: Any) -> Any:
    """A JSON schema without defaults: ``= {}`` and ``default_factory=dict`` say the same."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k != "default"}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


def test_openapi_component_names_name_one_schema() -> None:
    """Two schemas with one class name become one entry of the OpenAPI document, so one
    app's answers would be documented (and checked) as another's: rename one of them.
    """
    found: dict[str, set[type[BaseModel]]] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in [*operation.response_models.values(), *operation.models]:
                    _models_of(model, found)
    clashes = {
        name: sorted(f"{m.__module__}.{m.__qualname__}" for m in models)
        for name, models in found.items()
        if len({json.dumps(_shape(m.model_json_schema()), sort_keys=True) for m in models}) > 1
    }
    assert not clashes, f"different schemas share a name in the API document: {clashes}"
