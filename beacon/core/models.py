"""Tenancy, areas, people and roles, and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role


class UserManager(BaseUserManager["User"]):
    """Users sign in with their email address."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        """Create an ordinary user; the email is normalised and required."""
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        """Create a Django-admin superuser."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. What they may do comes from their memberships."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    is_staff = models.BooleanField(
        _("Django admin access"),
        default=False,
        help_text=_("Whether the user can sign in to the Django admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    preferred_language = models.CharField(max_length=10, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.email

    def roles_in(self, community: Community | int) -> set[str]:
        """The roles this user holds in ``community``."""
        community_id = community if isinstance(community, int) else community.pk
        return set(
            self.memberships.filter(community_id=community_id).values_list("role", flat=True)
        )

    @property
    def needs_second_factor(self) -> bool:
        """Staff roles and Django-admin users must sign in with TOTP."""
        if self.is_staff or self.is_superuser:
            return True
        return self.memberships.filter(role__in=STAFF_ROLES).exists()


class Organization(CommunityScoped):
    """A security company or police agency running Beacon for one or more communities."""

    class Kind(models.TextChoices):
        POLICE = "police", _("Police agency")
        SECURITY = "security", _("Security company")
        OTHER = "other", _("Other")

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.POLICE)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=frozenset(), change=MANAGER_ROLES, delete=frozenset()
    )
    community_path = "communities"

    def __str__(self) -> str:
        return self.name


class Community(CommunityScoped):
    """An area an organization serves; every domain row belongs to one."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="communities"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    centre_lat = models.FloatField(
        validators=[MinValueValidator(-90), MaxValueValidator(90)], default=0.0
    )
    centre_lon = models.FloatField(
        validators=[MinValueValidator(-180), MaxValueValidator(180)], default=0.0
    )
    default_zoom = models.PositiveSmallIntegerField(default=12)
    # GeoJSON geometry (Polygon or MultiPolygon, WGS84); empty means "no boundary set".
    boundary = models.JSONField(default=dict, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=frozenset(), change=MANAGER_ROLES, delete=frozenset()
    )
    community_path = "pk"

    class Meta:
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name


class AreaKind(models.TextChoices):
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
    BEAT = "beat", _("Beat")
    DISTRICT = "district", _("District")


class Area(CommunityScoped):
    """A neighbourhood, beat or district: a polygon with its H3 cover."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="areas")
    kind = models.CharField(max_length=20, choices=AreaKind.choices)
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=50, blank=True)
    geometry = models.JSONField(help_text=_("GeoJSON Polygon or MultiPolygon in WGS84."))
    population = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}),
        create=frozenset({Role.ANALYST, *MANAGER_ROLES}),
        change=frozenset({Role.ANALYST, *MANAGER_ROLES}),
        delete=MANAGER_ROLES,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "kind", "name"], name="area_unique_name")
        ]
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class AreaCell(models.Model):
    """One H3 cell of an area's cover; ``interior`` cells need no exact polygon test."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="cells")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=AreaKind.choices)
    cell = models.BigIntegerField()
    interior = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["community", "kind", "cell"], name="areacell_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["area", "cell"], name="areacell_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.cell:x} of area {self.area_id}"


class Membership(CommunityScoped):
    """A user's role in a community."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(view=MANAGER_ROLES)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "community", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.community}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> models.Q:
        """People may see their own memberships."""
        if action == "view":
            return models.Q(user_id=user.pk)
        return models.Q(pk__in=[])


class AuditEvent(CommunityScoped):
    """One append-only audit row, chained to the previous row by a SHA-256 hash."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What identified the actor when the row was written (survives the user's deletion).
    actor_label = models.CharField(max_length=254, blank=True)
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=20, default="success")
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    access_rules = AccessRules(
        view=MANAGER_ROLES, create=frozenset(), change=frozenset(), delete=frozenset()
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """The single row that serialises appends to the audit chain across processes."""

    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return self.last_hash


class IdempotencyRecord(models.Model):
    """The first response to a submission made with an ``Idempotency-Key``.

    A retry with the same key (in the same scope) gets this response back and creates
    nothing. Keys are scoped per endpoint and caller so two clients cannot collide.
    """

    scope = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class ScheduledJob(models.Model):
    """When a periodic job (``beacon.core.schedule``) last ran, and how it went."""

    class Status(models.TextChoices):
        NEVER = "never", _("never run")
        RUNNING = "running", _("running")
        OK = "ok", _("succeeded")
        FAILED = "failed", _("failed")

    name = models.CharField(max_length=100, unique=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.last_status})"
