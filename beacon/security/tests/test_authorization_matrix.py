"""Authorization matrix: every page and API operation × every role × objects it may not see.

The routes come from the URL resolver (every pattern of ``beacon.urls``) and the API's
own OpenAPI document (every operation), so a new app's pages and endpoints are in the
matrix as soon as they are routed. Each route is filled with real rows of a seeded world
(a row of every model in communities "north" and "south", see ``support.py``) and
requested by the public and by a north member of every role, three times:

- ``other``: the other community's slug and objects;
- ``own``: the member's own community and its objects, of which the access policy hides
  some from some roles (another watch group's rows, another youth program's minors,
  rows outside a partner's agreements, staff-only records);
- ``mixed``: the member's own slug with the other community's object ids.

Whether a role may see an object is asked of the access policy itself
(``beacon.core.access.can``). The rules checked:

1. Never a server error.
2. An object the policy hides from the caller is refused: 401, 403, 404, or a redirect
   to sign in; never a 2xx with it. A mixed URL is refused for everyone.
3. Every refusal of an existing object (403/404 outside ``mixed``) writes an audit row
   with outcome ``denied`` in the same request.
4. A page or operation of the other community that the public is refused is refused to
   members of other communities too (unless the route is listed in
   ``ANY_SIGNED_IN_USER``).
5. No answer (JSON, HTML, CSV, feeds) carries the text of a row the caller may not see,
   and partner and public answers never carry a tipster's contact fields or anything
   of a minor: unique sentinels are written into those fields before the run.

A URL parameter is filled automatically when it is the community slug, a regex choice,
or names a model (``pk`` by the path segment before it, ``<thing>_id`` and ``group`` by
name, preferring the view's own app); the guess is accepted only when the superuser (or
a member of the objects' community) is then actually served. Routes the automation
cannot fill must be listed in ``EXPLICIT``: a new route that is in neither fails
``test_every_route_is_in_the_matrix``, so nothing slips through.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from beacon.api import api
from beacon.core.access import CommunityScoped, can
from beacon.core.models import AuditEvent, Community, User
from beacon.core.testing import BeaconTestCase, verified_login
from beacon.programs import tokens as program_tokens
from beacon.security.tests.support import (
    ANONYMOUS,
    ROLES,
    Planted,
    materialise_files,
    plant_sentinels,
    seed_every_model,
    user_for,
)

API_PREFIX = "/api/v1"
DENIED = {401, 403, 404}
# Answers that are not text: nothing to search for sentinels.
BINARY = ("image/", "application/pdf", "application/octet-stream", "application/zip")


@dataclass(frozen=True)
class Explicit:
    """How to fill a route the automation cannot: fixed values and/or models by name."""

    values: dict[str, str] = field(default_factory=dict)
    models: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (label, field)
    query: str = ""  # appended to the path; may use {slug}, {lat} and {lon} (its centre)
    body: dict[str, Any] = field(default_factory=dict)  # JSON body values; a path name
    # (such as "report_id") stands for that parameter's value
    # Values computed from the row a parameter names (a signed token for it).
    derive: dict[str, Callable[[Any], str]] = field(default_factory=dict)
    # A bearer link: whoever holds a valid one may use it, whatever their role; the
    # matrix checks that a forged one is refused to everyone.
    capability: bool = False
    # Why nobody in the seeded world is served on this route (its rows are still filled
    # and every rule is still checked).
    unserved: str = ""
    why: str = ""


CSV_HEADER = b"id,occurred_at,category,lat,lon\n"
FORGED = "forged-link-token"
POINT = "?lat={lat}&lon={lon}"
MAILED = "the signed link mailed to a registrant"
# Open311 names the community in a query parameter.
OPEN311 = "?jurisdiction_id={slug}"
# Routes whose parameters are not rows that a name or path segment leads to.
EXPLICIT: dict[str, Explicit] = {
    "incidents:chart": Explicit(values={"name": "months"}, why="a chart's name"),
    "evaluation:report_pdf": Explicit(values={"period": "2026-Q1"}, why="a reporting period"),
    "problems:action": Explicit(values={"action": "stage"}, why="a workspace action"),
    "problems:assessment": Explicit(
        models={"pk": ("problems.problem", "pk"), "aid": ("problems.assessment", "pk")}
    ),
    "problems:assessment_pdf": Explicit(
        models={"pk": ("problems.problem", "pk"), "aid": ("problems.assessment", "pk")}
    ),
    "problems:new_from_hotspot": Explicit(models={"run_id": ("insights.analysisrun", "pk")}),
    "officers:beat": Explicit(models={"pk": ("core.area", "pk")}, why="a beat is an area"),
    "notify:area_feed": Explicit(models={"area_id": ("core.area", "pk")}),
    "notify:stop": Explicit(models={"pk": ("notify.subscription", "pk")}),
    "notify:unsubscribe": Explicit(
        values={"token": FORGED}, capability=True, why="the unsubscribe link in each alert"
    ),
    "reports:photo": Explicit(models={"pk": ("reports.reportphoto", "pk")}),
    "reports:my_reply": Explicit(
        models={"pk": ("reports.report", "pk")},
        unserved="only a report's signed-in reporter replies there; seeded reports are anonymous",
    ),
    "officers:photo": Explicit(models={"pk": ("officers.officerprofile", "pk")}),
    "officers:profile": Explicit(models={"pk": ("officers.officerprofile", "pk")}),
    "partners:document": Explicit(models={"pk": ("partners.agreementdocument", "pk")}),
    "partners:portal_initiative": Explicit(models={"pk": ("partners.jointinitiative", "pk")}),
    "surveys:respond": Explicit(models={"token": ("surveys.survey", "token")}),
    "surveys:qr": Explicit(models={"token": ("surveys.survey", "token")}),
    "programs:check_in_scan": Explicit(
        models={"token": ("programs.registration", "pk")},
        derive={"token": lambda r: program_tokens.make(program_tokens.CHECK_IN, r.pk)},
        why="staff scan a registrant's signed check-in code",
    ),
    "programs:confirm": Explicit(values={"token": FORGED}, capability=True, why=MAILED),
    "programs:registration": Explicit(values={"token": FORGED}, capability=True, why=MAILED),
    "programs:feedback": Explicit(values={"token": FORGED}, capability=True, why=MAILED),
    "programs:person_feed": Explicit(values={"token": FORGED}, capability=True, why=MAILED),
    "open311:service": Explicit(models={"code": ("reports.category", "code")}, query=OPEN311),
    "open311:request": Explicit(models={"pk": ("reports.report", "pk")}, query=OPEN311),
    "open311:token": Explicit(models={"token": ("reports.report", "token")}, query=OPEN311),
    "open311:services": Explicit(query=OPEN311),
    "open311:requests": Explicit(query=OPEN311),
    "open311:updates": Explicit(query=OPEN311),
    "GET /api/v1/communities/{slug}/area-at": Explicit(query=POINT + "&kind=beat"),
    "GET /api/v1/communities/{slug}/officers/at": Explicit(query=POINT),
    "GET /api/v1/communities/{slug}/reports/nearby": Explicit(query=POINT + "&category=graffiti"),
    "GET /api/v1/surveys/{token}": Explicit(models={"token": ("surveys.survey", "token")}),
    "POST /api/v1/surveys/{token}/responses": Explicit(
        models={"token": ("surveys.survey", "token")}
    ),
    "POST /api/v1/communities/{slug}/queue/{report_id}/merge": Explicit(
        body={"into": "report_id"}, why="merging a report into itself is refused with 400"
    ),
    **{
        f"POST /api/v1/communities/{{slug}}/tips/{verb}": Explicit(
            capability=True, why="a tip code and passphrase open the tip, whoever holds them"
        )
        for verb in ("open", "reply", "reopen", "survey")
    },
    "api:openapi-json": Explicit(why="the API's public description"),
    "api:openapi-view": Explicit(why="the API's public documentation page"),
    "api:api-root": Explicit(why="the API's root"),
}
# Routes any signed-in person may use in any community (the public is sent to sign in).
ANY_SIGNED_IN_USER: dict[str, str] = {}


# --- routes ---------------------------------------------------------------------------


@dataclass
class Route:
    """One URL pattern (or API operation) and how to call it."""

    key: str
    template: str  # the path with {name} holes
    params: list[str]
    app: str
    method: str = "GET"
    choices: dict[str, str] = field(default_factory=dict)  # regex alternatives
    operation: dict[str, Any] | None = None


def _pattern_template(pattern: Any) -> tuple[str, list[str], dict[str, str]]:
    text = str(pattern)
    choices = {
        m[1]: m[2].split("|")[0]
        for m in re.finditer(r"\(\?P<(\w+)>([\w|]+)\)", text)  # e.g. (?P<fmt>xml|json)
    }
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    text = text.replace("^", "").replace("$", "").replace("\\.", ".")
    names = re.findall(r"{(\w+)}", text)
    return text, names, choices


def url_routes() -> Iterator[Route]:
    """Every pattern of the URL map, named ``namespace:name`` (the route if unnamed)."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                space = entry.namespace or ""
                inner = f"{namespace}:{space}" if namespace and space else space or namespace
                text, _names, _choices = _pattern_template(entry.pattern)
                yield from walk(entry.url_patterns, prefix + text, inner)
            elif isinstance(entry, URLPattern):
                text, names, choices = _pattern_template(entry.pattern)
                template = prefix + text
                key = f"{namespace}:{entry.name}" if namespace else entry.name or ""
                if entry.name is None:
                    key = f"{namespace}:{template}" if namespace else template
                app = getattr(entry.callback, "__module__", "").split(".")
                app_label = app[1] if len(app) > 1 and app[0] == "beacon" else ""
                names = re.findall(r"{(\w+)}", template)
                yield Route(key, "/" + template, names, app_label, choices=choices)

    yield from walk(get_resolver().url_patterns, "", "")


@functools.cache
def api_document() -> dict[str, Any]:
    """The API's OpenAPI document (built once: building it is not cheap)."""
    return dict(api.get_openapi_schema(path_prefix=API_PREFIX))


def api_routes() -> Iterator[Route]:
    """Every operation of the API's OpenAPI document."""
    document = api_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            app = operation["operationId"].split("_")[1]
            params = re.findall(r"{(\w+)}", path)
            key = f"{method.upper()} {path}"
            yield Route(key, path, params, app, method.upper(), {}, operation)


# --- example requests for API operations ----------------------------------------------


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value a JSON schema accepts (required properties only)."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in schema:
            options = [o for o in schema[combinator] if o.get("type") != "null"]
            return example(options[0], components)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(props[name], components) for name in schema.get("required", [])}
    if kind == "array":
        return [example(schema.get("items", {}), components)] * schema.get("minItems", 0)
    if kind == "string":
        formats = {
            "date": "2026-01-15",
            "date-time": "2026-01-15T12:00:00Z",
            "email": "someone@example.org",
            "time": "12:00:00",
        }
        return formats.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return low if kind == "integer" else float(low)
    if kind == "boolean":
        return False
    return None


def candidate_models(route: Route, name: str) -> list[tuple[type[models.Model], str]]:
    """Models a parameter may name: by ``<thing>_id``, by its name, or (``pk``) by the
    path segment before it; the view's own app first.
    """
    scoped = [m for m in apps.get_models() if issubclass(m, CommunityScoped)]
    if name.endswith("_id"):
        term = name.removesuffix("_id")
    elif name in ("pk", "aid"):
        before = route.template.split("{" + name + "}")[0].rstrip("/").split("/")
        term = before[-1] if before else ""
    else:
        term = name
    term = re.sub(r"[^a-z]", "", term.lower())
    singular = term[:-1] if term.endswith("s") else term
    field_name = "pk" if name in ("pk", "aid") or name.endswith("_id") else "slug"

    def matches(model: type[models.Model]) -> bool:
        model_name = model._meta.model_name or ""
        if field_name == "slug" and not any(f.name == "slug" for f in model._meta.concrete_fields):
            return False
        return bool(singular) and (model_name.startswith(singular) or model_name.endswith(singular))

    own = [m for m in scoped if m._meta.app_label == route.app and matches(m)]
    found = own or [m for m in scoped if matches(m)]
    return [(m, field_name) for m in found]


# --- the matrix -----------------------------------------------------------------------


@dataclass
class Fill:
    """A route filled for one scope: the path, what to send, and the rows it names."""

    path: str
    objects: list[models.Model]
    data: Any = None
    content_type: str = "application/json"


@dataclass
class Plan:
    """How a route is filled: for each parameter, a model (and field) or a fixed value."""

    models: dict[str, tuple[type[models.Model], str]]
    values: dict[str, str]


class AuthorizationMatrixTests(BeaconTestCase):
    """The whole matrix; failures are collected and reported together."""

    planted: dict[str, Planted]
    superuser: User

    @classmethod
    def setUpClass(cls) -> None:
        # Seeded files go to a scratch media folder, removed with the class.
        media = tempfile.TemporaryDirectory()
        override = override_settings(MEDIA_ROOT=media.name)
        override.enable()
        cls.addClassCleanup(media.cleanup)
        cls.addClassCleanup(override.disable)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_every_model(cls.world)
        materialise_files(fill_blank=True)
        cls.superuser = User.objects.create_superuser("root@matrix.test", "matrix-root-pw")
        cls.planted = plant_sentinels()

    def setUp(self) -> None:
        super().setUp()
        self.failures: list[str] = []
        self.markers_shown = 0  # planted markers shown to callers allowed to see them
        self.clients: dict[str, Client] = {}
        self.users: dict[str, Any] = {}
        for role in ROLES:
            client = Client(raise_request_exception=False)
            user = user_for(self.world, role)
            if user is not None:
                verified_login(client, user)
            self.clients[role] = client
            self.users[role] = user or AnonymousUser()
        self.root = Client(raise_request_exception=False)
        verified_login(self.root, self.superuser)
        self.outsider_clients: dict[str, Client] = {}
        for role, user in self.world.outsiders.items():
            client = Client(raise_request_exception=False)
            verified_login(client, user)
            self.outsider_clients[role] = client
        self._can: dict[tuple[str, str, Any], bool] = {}
        self.hidden = {role: self._hidden_sentinels(role) for role in ROLES}

    # -- policy ------------------------------------------------------------------------

    def can_view(self, role: str, obj: models.Model) -> bool:
        key = (role, obj._meta.label_lower, obj.pk)
        if key not in self._can:
            self._can[key] = can(self.users[role], "view", obj)  # type: ignore[arg-type]
        return self._can[key]

    def _hidden_sentinels(self, role: str) -> list[str]:
        shielded = role in (ANONYMOUS, "partner")
        hidden = []
        for marker, where in self.planted.items():
            obj = where.model.objects.filter(pk=where.pk).first()
            if obj is None:
                continue
            if (where.protected and shielded) or not self.can_view(role, obj):
                hidden.append(marker.lower())
        return hidden

    # -- filling -----------------------------------------------------------------------

    def plans(self, route: Route) -> Iterator[Plan]:
        """Every way of filling ``route`` the automation (or ``EXPLICIT``) offers."""
        explicit = EXPLICIT.get(route.key, Explicit())
        values = {**route.choices, **explicit.values}
        options: dict[str, list[tuple[type[models.Model], str]]] = {}
        for name in route.params:
            if name in values or name == "slug":
                continue
            if name in explicit.models:
                label, field_name = explicit.models[name]
                options[name] = [(apps.get_model(label), field_name)]
            else:
                options[name] = candidate_models(route, name)
                if not options[name]:
                    return
        names = list(options)
        for combo in itertools.product(*(options[n] for n in names)):
            yield Plan(dict(zip(names, combo, strict=True)), values)

    def rows(self, plan: Plan, community: Community) -> Iterator[dict[str, models.Model]]:
        """Rows of ``community`` for each parameter; later rows point at earlier ones."""
        names = list(plan.models)
        pools: list[list[models.Model]] = []
        for name in names:
            model, _field = plan.models[name]
            manager: Any = model._default_manager
            pools.append(list(manager.all().in_community(community).order_by("pk")[:6]))
        for combo in itertools.product(*pools):
            chosen = dict(zip(names, combo, strict=True))
            pairs = itertools.combinations(names, 2)
            if all(self._related(chosen[a], chosen[b]) for a, b in pairs):
                yield chosen

    @staticmethod
    def _related(first: models.Model, second: models.Model) -> bool:
        links = [
            f
            for f in second._meta.concrete_fields
            if f.is_relation and f.related_model is type(first)
        ]
        return not links or any(getattr(second, f.attname) == first.pk for f in links)

    def fill(self, route: Route, plan: Plan, slug: str, chosen: dict[str, models.Model]) -> Fill:
        values: dict[str, Any] = {"slug": slug, **plan.values}
        derive = EXPLICIT.get(route.key, Explicit()).derive
        for name, obj in chosen.items():
            _model, field_name = plan.models[name]
            if name in derive:
                values[name] = derive[name](obj)
            else:
                values[name] = obj.pk if field_name == "pk" else getattr(obj, field_name)
        path = route.template.format(**values)
        community = Community.objects.get(slug=slug)
        path += EXPLICIT.get(route.key, Explicit()).query.format(
            slug=slug, lat=community.centre_lat, lon=community.centre_lon
        )
        objects = list(chosen.values())
        if route.operation is None:
            return Fill(path, objects)
        return self._api_fill(route, path, objects, values)

    def _api_fill(
        self, route: Route, path: str, objects: list[models.Model], path_values: dict[str, Any]
    ) -> Fill:
        assert route.operation is not None
        document = api_document()
        components = document.get("components", {}).get("schemas", {})
        query = {
            p["name"]: example(p.get("schema", {}), components)
            for p in route.operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }
        if query and "?" not in path:
            path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        body = route.operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            data = example(body["application/json"]["schema"], components)
            for name, value in EXPLICIT.get(route.key, Explicit()).body.items():
                data[name] = int(path_values[value]) if value in path_values else value
            return Fill(path, objects, json.dumps(data))
        if body:
            media = next(iter(body))
            schema = body[media]["schema"]
            data = example(schema, components)
            for name, prop in schema.get("properties", {}).items():
                if prop.get("format") == "binary" or (
                    prop.get("items", {}).get("format") == "binary"
                ):  # an upload: a small file of the Beacon incident CSV header
                    data[name] = SimpleUploadedFile("upload.csv", CSV_HEADER, "text/csv")
            data = {k: json.dumps({}) if k == "data" else v for k, v in data.items()}
            return Fill(path, objects, data, "multipart/form-data")
        return Fill(path, objects)

    # -- requests ----------------------------------------------------------------------

    def send(self, client: Client, route: Route, fill: Fill) -> tuple[Any, int]:
        """Send inside a savepoint that is rolled back; return the answer and how many
        "denied" audit rows it wrote.
        """
        with transaction.atomic():
            before = AuditEvent.objects.filter(outcome="denied").count()
            method = getattr(client, route.method.lower())
            if fill.data is None:
                response = method(fill.path)
            elif fill.content_type == "multipart/form-data":
                for value in fill.data.values():
                    if hasattr(value, "seek"):
                        value.seek(0)  # the same upload is sent once per caller
                response = method(fill.path, fill.data)
            else:
                response = method(fill.path, fill.data, content_type=fill.content_type)
            if route.method == "GET" and response.status_code == 405:
                response = client.post(fill.path)
            audited = AuditEvent.objects.filter(outcome="denied").count() - before
            transaction.set_rollback(True)
        return response, audited

    @staticmethod
    def served(response: Any) -> bool:
        """Answered as for someone allowed: not refused, not sent to sign in, and not a
        422 (the request did not reach the operation, so it says nothing either way).
        """
        if response.status_code in DENIED or response.status_code in (405, 422):
            return False
        if response.status_code >= 500:
            return False
        return not (
            response.status_code in (301, 302) and "/accounts/" in response.get("Location", "")
        )

    @staticmethod
    def body(response: Any) -> str:
        kind = response.get("Content-Type", "")
        if kind.startswith(BINARY):
            return ""
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return content.decode("utf-8", "replace").lower()

    def control(self, route: Route) -> tuple[Plan, dict[str, models.Model]] | None:
        """The first filling of ``route`` that someone allowed is served on."""
        other = self.world.other_community
        if EXPLICIT.get(route.key, Explicit()).unserved:
            plan = next(self.plans(route))
            return plan, next(self.rows(plan, other))
        candidates = [self.root, *self.outsider_clients.values()]
        tried = 0
        for plan in self.plans(route):
            for chosen in self.rows(plan, other):
                fill = self.fill(route, plan, other.slug, chosen)
                for client in candidates:
                    response, _audited = self.send(client, route, fill)
                    if self.served(response):
                        return plan, chosen
                tried += 1
                if tried >= 12:
                    return None
        return None

    def counterpart(
        self, plan: Plan, chosen: dict[str, models.Model], community: Community
    ) -> dict[str, models.Model] | None:
        """Rows of ``community`` standing where ``chosen`` stood (same models)."""
        for rows in self.rows(plan, community):
            return rows
        return None if chosen else {}

    # -- the check ---------------------------------------------------------------------

    def check_route(self, route: Route) -> None:
        if EXPLICIT.get(route.key, Explicit()).capability:
            self.check_capability(route)
            return
        found = self.control(route)
        if found is None:
            self.failures.append(
                f"{route.key} ({route.template}): no filling of its parameters is served to "
                "the superuser or any member; add it to EXPLICIT with the model or value "
                "each parameter takes"
            )
            return
        plan, chosen = found
        north, south = self.world.community, self.world.other_community
        own = self.counterpart(plan, chosen, north)
        scopes: list[tuple[str, Fill]] = [("other", self.fill(route, plan, south.slug, chosen))]
        if own is not None:
            scopes.append(("own", self.fill(route, plan, north.slug, own)))
        # Ids are unique across communities; slugs and codes repeat, so only a route
        # naming rows by id can mix one community's slug with another's rows.
        by_id = all(field_name == "pk" for _model, field_name in plan.models.values())
        if chosen and by_id and "slug" in route.params:
            scopes.append(("mixed", self.fill(route, plan, north.slug, chosen)))
        for scope, fill in scopes:
            public_served: bool | None = None
            for role in ROLES:
                response, audited = self.send(self.clients[role], route, fill)
                if role == ANONYMOUS:
                    public_served = self.served(response)
                self.judge(route, scope, fill, role, response, audited, public_served)

    def check_capability(self, route: Route) -> None:
        """A forged bearer link is refused to everyone, in both communities."""
        plan = next(self.plans(route))
        for community in (self.world.community, self.world.other_community):
            fill = self.fill(route, plan, community.slug, {})
            for role in ROLES:
                response, _audited = self.send(self.clients[role], route, fill)
                if not 400 <= response.status_code < 500:
                    self.failures.append(
                        f"{route.key} as {role}: {response.status_code} for a forged link"
                    )

    def judge(
        self,
        route: Route,
        scope: str,
        fill: Fill,
        role: str,
        response: Any,
        audited: int,
        public_served: bool | None,
    ) -> None:
        method = response.request.get("REQUEST_METHOD", route.method)
        where = f"{route.key} [{scope}] as {role}: {method} {fill.path}"
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{where}: server error {status}")
            return
        hidden = [o for o in fill.objects if not self.can_view(role, o)]
        denied_by_policy = scope == "mixed" or bool(hidden)
        served = self.served(response)
        if denied_by_policy and served:
            names = ", ".join(f"{o._meta.label} {o.pk}" for o in hidden) or "another community's"
            self.failures.append(f"{where}: {status}, but the policy hides {names}")
        elif (
            scope == "other"
            and role != ANONYMOUS
            and served
            and public_served is False
            and route.key not in ANY_SIGNED_IN_USER
        ):
            self.failures.append(
                f"{where}: {status} for a member of another community, the public is refused"
            )
        expected_refusal = denied_by_policy or public_served is False
        if status in (403, 404) and scope != "mixed" and expected_refusal and not audited:
            self.failures.append(f"{where}: refused with {status} but not audited")
        text = self.body(response)
        if "sentinel" in text:
            self.markers_shown += text.count("sentinel")
        leaked = [m for m in self.hidden[role] if m in text]
        if leaked:
            details = "; ".join(
                f"{self.planted_by_lower[m].model._meta.label}.{self.planted_by_lower[m].field}"
                for m in leaked[:5]
            )
            self.failures.append(f"{where}: {status} carries data it may not see: {details}")

    @property
    def planted_by_lower(self) -> dict[str, Planted]:
        return {k.lower(): v for k, v in self.planted.items()}

    def run_matrix(self, routes: list[Route], select: Callable[[Route], bool]) -> None:
        chosen = [r for r in routes if select(r)]
        assert chosen, "no routes selected"
        for route in chosen:
            self.check_route(route)
        assert not self.failures, f"{len(self.failures)} problems:\n" + "\n".join(self.failures)
        # The markers do show where the caller may see them, so their absence elsewhere
        # is evidence, not an accident of where they were planted.
        assert self.markers_shown > 0, "no planted marker was shown to anyone"

    # -- tests -------------------------------------------------------------------------

    def test_pages(self) -> None:
        """Every page of every app (the admin site and the API have their own tests)."""
        self.run_matrix(
            list(url_routes()),
            lambda r: not r.key.startswith(("admin:", "api:")) and r.key not in EXPLICIT_ONLY,
        )

    def test_api_operations(self) -> None:
        self.run_matrix(list(api_routes()), lambda r: True)

    def test_admin_site(self) -> None:
        """The Django admin is for Django staff only: every role is sent to its sign-in."""
        for route in url_routes():
            if not route.key.startswith("admin:") or route.key in ADMIN_OPEN:
                continue
            values = {"object_id": "1", "app_label": "core", "url": "no-such-page/"}
            path = route.template.format(**{n: values.get(n, "x") for n in route.params})
            for role in ROLES:
                response = self.clients[role].get(path)
                if response.status_code != 302 or "/admin/login/" not in response["Location"]:
                    self.failures.append(f"{route.key} as {role}: {response.status_code}")
        assert not self.failures, "\n".join(self.failures)


# The admin's own sign-in and sign-out pages answer everyone.
ADMIN_OPEN = {"admin:login", "admin:logout"}
# Routes that are filled only by their EXPLICIT entry and hold no community data.
EXPLICIT_ONLY = {"api:openapi-json", "api:openapi-view", "api:api-root"}


def test_every_route_is_in_the_matrix() -> None:
    """Each URL pattern is an API operation, an admin page, or a page whose parameters
    the matrix can fill (by the automatic rules or an ``EXPLICIT`` entry); each
    ``EXPLICIT`` entry names a route that still exists.
    """
    routes = list(url_routes())
    operations = list(api_routes())
    keys = {r.key for r in routes} | {r.key for r in operations}
    api_paths = {r.template for r in operations}
    problems = []
    for route in routes:
        if route.key.startswith("admin:") or route.key in EXPLICIT:
            continue
        if route.key.startswith("api:"):
            path = "/" + route.template.lstrip("/")
            as_api = re.sub(r"{(\w+)}", r"{\1}", path)
            if as_api not in api_paths:
                problems.append(f"{route.key}: an API route not in the OpenAPI document")
            continue
        for name in route.params:
            if name in ("slug", *route.choices):
                continue
            if not candidate_models(route, name):
                problems.append(f"{route.key} ({route.template}): cannot fill {name!r}")
    stale = sorted(set(EXPLICIT) - keys)
    assert not stale, f"EXPLICIT names routes that no longer exist: {stale}"
    assert not problems, "add these routes to EXPLICIT:\n" + "\n".join(problems)
