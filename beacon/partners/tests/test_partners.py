"""Partners: agreements, renewal reminders, initiatives and the portal's access policy."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from io import StringIO

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase, make_user
from beacon.partners import services
from beacon.partners.models import (
    Agreement,
    AgreementDocument,
    InitiativeTask,
    JointInitiative,
    Partner,
    TaskStatus,
)
from beacon.partners.testing import PDF, make_initiative, make_partner


class PortalTests(BeaconTestCase):
    """A partner school user sees its joint initiative and not another partner's."""

    school: Partner
    charity: Partner
    ours: JointInitiative
    theirs: JointInitiative

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.school = make_partner(cls.community, "North Secondary", contact_user=cls.partner)
        cls.charity = make_partner(cls.community, "Youth Charity", kind="ngo")
        cls.ours = make_initiative(cls.community, cls.school, "Safe routes to school")
        cls.theirs = make_initiative(cls.community, cls.charity, "Night basketball")

    def test_policy_narrows_partner_to_own_initiatives(self) -> None:
        visible = JointInitiative.objects.visible_to(self.partner)
        assert list(visible) == [self.ours]
        assert set(Partner.objects.visible_to(self.partner)) == {self.school}
        assert set(InitiativeTask.objects.visible_to(self.partner)) == set(self.ours.tasks.all())
        # Staff see both.
        assert JointInitiative.objects.visible_to(self.officer).count() == 2

    def test_portal_page(self) -> None:
        self.login(self.partner)
        page = self.client.get("/c/north/partner/")
        self.assertContains(page, "Safe routes to school")
        self.assertNotContains(page, "Night basketball")
        self.assertNotContains(page, "Youth Charity")
        assert self.client.get(f"/c/north/partner/initiatives/{self.ours.pk}/").status_code == 200
        assert self.client.get(f"/c/north/partner/initiatives/{self.theirs.pk}/").status_code == 403
        assert AuditEvent.objects.filter(outcome="denied", object_id=str(self.theirs.pk)).exists()

    def test_a_joint_initiative_is_visible_to_each_of_its_partners(self) -> None:
        services.save_initiative(
            self.community,
            services.InitiativeData(title="Both", partners=[self.school, self.charity]),
        )
        assert JointInitiative.objects.visible_to(self.partner).count() == 2

    def test_expired_or_terminated_agreement_closes_the_portal(self) -> None:
        agreement = self.school.agreements.get()
        services.terminate_agreement(agreement)
        assert not JointInitiative.objects.visible_to(self.partner).exists()
        # They still see their organisation and its agreement, to know why.
        assert Agreement.objects.visible_to(self.partner).get() == agreement
        self.login(self.partner)
        self.assertContains(self.client.get("/c/north/partner/"), "not in force")

    def test_partner_marks_own_task_done_but_not_others(self) -> None:
        self.login(self.partner)
        task = self.ours.tasks.get()
        self.client.post("/c/north/partner/", {"task": task.pk, "done": "1"})
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE
        other = self.theirs.tasks.get()
        response = self.client.post("/c/north/partner/", {"task": other.pk, "done": "1"})
        assert response.status_code == 403
        other.refresh_from_db()
        assert other.status == TaskStatus.OPEN

    def test_roles(self) -> None:
        self.login(self.resident)
        assert self.client.get("/c/north/partner/").status_code == 403
        self.login(self.outsider)
        assert self.client.get("/c/north/partner/").status_code == 404
        assert self.client.get("/staff/c/north/partners/").status_code == 404
        self.login(self.partner)
        assert self.client.get("/staff/c/north/partners/").status_code == 403


class AgreementTests(BeaconTestCase):
    def test_agreement_must_expire_after_it_starts(self) -> None:
        partner = make_partner(self.community)
        today = timezone.localdate()
        with self.assertRaisesMessage(services.PartnerError, "expire after it starts"):
            services.save_agreement(
                partner,
                services.AgreementData(
                    title="Bad", scope="x", starts_on=today, expires_on=today - timedelta(days=1)
                ),
            )
        with self.assertRaisesMessage(services.PartnerError, "terms"):
            services.save_agreement(
                partner,
                services.AgreementData(
                    title="Bad",
                    scope="x",
                    starts_on=today,
                    expires_on=today + timedelta(days=9),
                    information_sharing="case",
                ),
            )

    def test_renewal_reminder_once_per_term(self) -> None:
        partner = make_partner(self.community, agreement_days=30)
        make_partner(self.community, "Far away", agreement_days=300)
        out = StringIO()
        call_command("send_agreement_reminders", stdout=out)
        assert "Sent 1 renewal reminder." in out.getvalue()
        recipients = sorted(m.to[0] for m in mail.outbox)
        assert self.supervisor.email in recipients and self.admin.email in recipients
        assert any(r.startswith("contact@") for r in recipients)
        count = len(mail.outbox)
        call_command("send_agreement_reminders", stdout=StringIO())
        assert len(mail.outbox) == count
        # Renewing (a new expiry) re-arms the reminder for the next term.
        agreement = partner.agreements.get()
        services.save_agreement(
            partner,
            services.AgreementData(
                title=agreement.title,
                scope=agreement.scope,
                starts_on=agreement.starts_on,
                expires_on=agreement.expires_on + timedelta(days=365),
            ),
            agreement=agreement,
        )
        later = agreement.expires_on - timedelta(days=25)  # the new expiry
        assert services.send_renewal_reminders(later) == 1

    def test_staff_pages_contacts_agreements_and_documents(self) -> None:
        self.login(self.officer)
        response = self.client.post(
            "/staff/c/north/partners/", {"name": "Corner Store", "kind": "business"}
        )
        partner = Partner.objects.get(name="Corner Store")
        assert response.status_code == 302
        url = f"/staff/c/north/partners/{partner.pk}/"
        portal_user = make_user("store@example.org")
        self.client.post(
            url,
            {
                "action": "contact",
                "contact-name": "Sam Store",
                "contact-email": "store@example.org",
                "contact-portal": "on",
            },
        )
        assert partner.contacts.get().user == portal_user
        assert "partner" in portal_user.roles_in(self.community)
        response = self.client.post(
            url,
            {
                "action": "agreement",
                "agreement-title": "Store watch",
                "agreement-scope": "Shared CCTV awareness",
                "agreement-information_sharing": "none",
                "agreement-starts_on": "2030-01-10",
                "agreement-expires_on": "2030-01-01",
            },
        )
        self.assertContains(response, "must expire after it starts")
        self.client.post(
            url,
            {
                "action": "agreement",
                "agreement-title": "Store watch",
                "agreement-scope": "Shared CCTV awareness",
                "agreement-information_sharing": "none",
                "agreement-starts_on": "2020-01-01",
                "agreement-expires_on": "2035-01-01",
            },
        )
        agreement = partner.agreements.get()
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            self.client.post(
                url,
                {
                    "action": "document",
                    "document-agreement": agreement.pk,
                    "document-title": "Signed",
                    "document-file": SimpleUploadedFile("s.pdf", PDF, "application/pdf"),
                },
            )
            document = AgreementDocument.objects.get()
            assert self.client.get(f"/c/north/partner/documents/{document.pk}").status_code == 200
            # Another partner's user cannot fetch it.
            self.login(self.partner)
            assert self.client.get(f"/c/north/partner/documents/{document.pk}").status_code == 403
        self.login(self.officer)
        response = self.client.post(
            url,
            {
                "action": "document",
                "document-agreement": agreement.pk,
                "document-file": SimpleUploadedFile("x.exe", b"MZ", "application/x-msdownload"),
            },
        )
        self.assertContains(response, "Upload a PDF")

    def test_staff_initiative_with_links(self) -> None:
        from beacon.programs.testing import make_event

        school = make_partner(self.community)
        event = make_event(self.community)
        self.login(self.officer)
        response = self.client.post(
            "/staff/c/north/initiatives/new/",
            {
                "title": "Safety week",
                "status": "active",
                "partners": [school.pk],
                "programs": [event.program_id],
                "events": [event.pk],
            },
        )
        initiative = JointInitiative.objects.get(title="Safety week")
        assert response.status_code == 302
        assert list(initiative.events.all()) == [event]
        assert initiative.problem is None  # to be linked when problems exist
        self.client.post(
            f"/staff/c/north/initiatives/{initiative.pk}/",
            {"title": "Print flyers", "partner": school.pk},
        )
        assert initiative.tasks.get().partner == school
