"""Partner organisations, their contacts and agreements, and joint initiatives.

Partner users are people with the *partner* role in a community who are a contact of a
partner organisation (``PartnerContact.user``). The access policy narrows what they see
to what their organisation's *active* agreements cover: their organisation, its
contacts and agreements, and the joint initiatives (and tasks) it takes part in.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import AccessRules, CommunityScoped, member_community_ids
from beacon.core.models import Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

# Officers and managers run partnerships; analysts read them.
PARTNERSHIP_STAFF: frozenset[str] = frozenset({Role.OFFICER, *MANAGER_ROLES})
STAFF_AND_PARTNERS: frozenset[str] = frozenset({*STAFF_ROLES, Role.PARTNER})


def active_partner_ids(user: Any, on: date | None = None) -> models.QuerySet[Any]:
    """Ids of the organisations ``user`` is a contact of that have an active agreement."""
    on = on or timezone.localdate()
    return (
        Partner.objects.filter(
            contacts__user_id=user.pk,
            agreements__starts_on__lte=on,
            agreements__expires_on__gte=on,
            agreements__terminated_on__isnull=True,
        )
        .values("pk")
        .distinct()
    )


def own_partner_ids(user: Any) -> models.QuerySet[Any]:
    """Ids of the organisations ``user`` is a contact of, whatever their agreements."""
    return Partner.objects.filter(contacts__user_id=user.pk).values("pk")


class PartnerScoped(CommunityScoped):
    """Rules shared by partner rows: staff see all, partner users only what is covered."""

    class Meta:
        abstract = True

    # The lookup from this model to the Partner ids a partner user's access hangs on.
    partner_path: str = "partner"
    # Whether a partner user needs an active agreement to see the row (their own
    # organisation and agreements stay visible so they can see what has expired).
    needs_active_agreement: bool = True

    @classmethod
    def member_q(cls, user: Any, action: str) -> Q:
        """Staff roles are not narrowed; the partner role sees covered rows only."""
        others = cls.access_rules.roles_for(action) - {Role.PARTNER}
        staff = Q(**{f"{cls.community_path}__in": member_community_ids(user, others)})
        partners = active_partner_ids(user) if cls.needs_active_agreement else own_partner_ids(user)
        return staff | Q(**{f"{cls.partner_path}__in": partners})


class PartnerKind(models.TextChoices):
    SCHOOL = "school", _("School")
    COMMUNITY = "community", _("Community organisation")
    BUSINESS = "business", _("Business")
    LOCAL_AUTHORITY = "local_authority", _("Local authority")
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    NGO = "ngo", _("Non-governmental organisation")
    FAITH = "faith", _("Faith group")


class Partner(PartnerScoped):
    """An organisation the community works with."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=PartnerKind.choices)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS, create=PARTNERSHIP_STAFF, change=PARTNERSHIP_STAFF
    )
    partner_path = "pk"
    needs_active_agreement = False

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="partner_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def active_agreement(self, on: date | None = None) -> Agreement | None:
        """The agreement in force on ``on`` (today by default), if any."""
        on = on or timezone.localdate()
        return (
            self.agreements.filter(
                starts_on__lte=on, expires_on__gte=on, terminated_on__isnull=True
            )
            .order_by("-expires_on")
            .first()
        )


class PartnerContact(PartnerScoped):
    """A person at a partner organisation; with ``user`` set, they can use the portal."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_contacts",
    )

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS, create=PARTNERSHIP_STAFF, change=PARTNERSHIP_STAFF
    )
    needs_active_agreement = False

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "user"],
                condition=Q(user__isnull=False),
                name="partnercontact_one_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner})"


class InformationSharing(models.TextChoices):
    NONE = "none", _("No information shared")
    AGGREGATE = "aggregate", _("Aggregate statistics only")
    PROGRAM = "program", _("Program participation (no personal details)")
    CASE = "case", _("Case-level, named information under the agreement's terms")


class Agreement(PartnerScoped):
    """A partnership agreement: scope, information-sharing terms, term and documents."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="agreements")
    title = models.CharField(_("title"), max_length=200)
    scope = models.TextField(_("scope"), help_text=_("What the partnership covers."))
    information_sharing = models.CharField(
        _("information sharing"),
        max_length=20,
        choices=InformationSharing.choices,
        default=InformationSharing.NONE,
    )
    sharing_terms = models.TextField(_("information-sharing terms"), blank=True)
    starts_on = models.DateField(_("starts on"))
    expires_on = models.DateField(_("expires on"))
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    # The expiry date a renewal reminder was sent for: one reminder per term.
    reminder_sent_for = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS, create=PARTNERSHIP_STAFF, change=PARTNERSHIP_STAFF
    )
    needs_active_agreement = False

    class Meta:
        ordering = ["-expires_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("starts_on")),
                name="agreement_expires_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.partner})"

    def is_active(self, on: date | None = None) -> bool:
        """Whether the agreement is in force on ``on`` (today by default)."""
        on = on or timezone.localdate()
        return self.terminated_on is None and self.starts_on <= on <= self.expires_on


class AgreementDocument(PartnerScoped):
    """A signed agreement, annex or data-sharing protocol."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="partners/agreements/%Y/")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS, create=PARTNERSHIP_STAFF, change=PARTNERSHIP_STAFF
    )
    partner_path = "agreement__partner"
    needs_active_agreement = False

    def __str__(self) -> str:
        return self.title


class InitiativeStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")


class JointInitiative(PartnerScoped):
    """Work done with partners, linking programs, events and (later) problems."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InitiativeStatus.choices,
        default=InitiativeStatus.PLANNED,
    )
    partners = models.ManyToManyField(Partner, related_name="initiatives")
    programs = models.ManyToManyField("programs.Program", blank=True, related_name="initiatives")
    events = models.ManyToManyField("programs.Event", blank=True, related_name="initiatives")
    # The SARA problem this initiative responds to. Problems live in an app still to
    # come, so the link is a nullable generic reference to be narrowed to a foreign key
    # to ``problems.Problem`` when that app lands.
    problem_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    problem_id = models.PositiveBigIntegerField(null=True, blank=True)
    problem = GenericForeignKey("problem_type", "problem_id")
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS, create=PARTNERSHIP_STAFF, change=PARTNERSHIP_STAFF
    )
    partner_path = "partners"

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class InitiativeTask(PartnerScoped):
    """A piece of an initiative's work, owned by a partner or by the agency."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    initiative = models.ForeignKey(JointInitiative, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Empty means the agency does it.
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Partners may mark their own tasks done ("change"), nothing else.
    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS,
        create=PARTNERSHIP_STAFF,
        change=frozenset({*PARTNERSHIP_STAFF, Role.PARTNER}),
    )

    class Meta:
        ordering = ["status", "due_on", "pk"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def member_q(cls, user: Any, action: str) -> Q:
        """Partners see every task of their initiatives, and change only their own."""
        others = cls.access_rules.roles_for(action) - {Role.PARTNER}
        staff = Q(community__in=member_community_ids(user, others))
        covered = active_partner_ids(user)
        if action == "view":
            return staff | Q(initiative__partners__in=covered)
        return staff | Q(partner__in=covered)
