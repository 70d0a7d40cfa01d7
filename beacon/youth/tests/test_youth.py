"""Youth mentorship: vetting, consent, matching, safeguarding and retention."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.partners.testing import make_partner
from beacon.youth import services
from beacon.youth.models import (
    Match,
    Mentee,
    Mentor,
    OutcomeMeasure,
    SessionLog,
    YouthProgram,
)
from beacon.youth.testing import make_mentee, make_mentor, make_program


class VettingAndMatchingTests(BeaconTestCase):
    program: YouthProgram

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.program = make_program(cls.community, cls.supervisor)

    def test_expired_mentor_cannot_be_matched(self) -> None:
        expired = make_mentor(self.program, "Expired Mentor", expires_in=-1)
        mentee = make_mentee(self.program)
        with self.assertRaisesMessage(services.YouthError, "background check expired"):
            services.match(mentee, expired)
        assert not Match.objects.exists()
        suggestions = services.suggest_matches(mentee)
        assert suggestions.ranked == []
        assert suggestions.excluded[0][0] == expired

    def test_unvetted_mentor_cannot_be_matched(self) -> None:
        untrained = make_mentor(self.program, "Untrained", training_completed_on=None)
        unchecked = make_mentor(
            self.program, "Unchecked", background_check_on=None, background_check_expires_on=None
        )
        mentee = make_mentee(self.program)
        for mentor, why in ((untrained, "training"), (unchecked, "no background check")):
            with self.assertRaisesMessage(services.YouthError, why):
                services.match(mentee, mentor)

    def test_suggestions_rank_with_reasons(self) -> None:
        good = make_mentor(self.program, "Good Fit")
        poor = make_mentor(
            self.program,
            "Poor Fit",
            interests=["chess"],
            languages=["french"],
            availability=["mon-am"],
            lat=49.40,
            lon=-123.0,
        )
        make_mentor(self.program, "Expired", expires_in=-10)
        mentee = make_mentee(self.program)
        suggestions = services.suggest_matches(mentee)
        assert [s.mentor for s in suggestions.ranked] == [good, poor]
        reasons = " | ".join(suggestions.ranked[0].reasons)
        assert "football" in reasons and "punjabi" in reasons and "sat-am" in reasons
        assert "km apart" in reasons
        assert "no shared language" in suggestions.ranked[1].reasons
        pairing = services.match(mentee, good)
        assert pairing.reasons == suggestions.ranked[0].reasons
        # A full mentor is not suggested again.
        other = make_mentee(self.program, name="Sam Young")
        assert good not in [s.mentor for s in services.suggest_matches(other).ranked]
        with self.assertRaisesMessage(services.YouthError, "already has"):
            services.match(other, good)

    def test_sessions_and_outcomes(self) -> None:
        mentee = make_mentee(self.program)
        pairing = services.match(mentee, make_mentor(self.program))
        services.log_session(pairing, date.today(), 45, "Homework club")
        services.record_outcome(mentee, "school_attendance", 92, date.today())
        with self.assertRaisesMessage(services.YouthError, "0 to 100"):
            services.record_outcome(mentee, "school_attendance", 120, date.today())
        with self.assertRaisesMessage(services.YouthError, "after they happen"):
            services.log_session(pairing, date.today() + timedelta(days=2), 45, "Future")

    def test_only_staff_can_be_assigned(self) -> None:
        with self.assertRaisesMessage(services.YouthError, "Only staff"):
            services.assign_staff(self.program, self.partner)


class ConsentTests(BeaconTestCase):
    def test_mentee_without_consent_cannot_store_beyond_the_application(self) -> None:
        program = make_program(self.community, self.supervisor)
        mentee = make_mentee(program, consent=False)
        with self.assertRaisesMessage(services.YouthError, "consent"):
            services.update_profile(mentee, services.Profile(interests=["art"], school="X"))
        mentee.refresh_from_db()
        assert mentee.interests == [] and mentee.school == ""
        # The database refuses it too, whatever path the write takes.
        mentee.school = "North Secondary"
        with self.assertRaises(IntegrityError), transaction.atomic():
            mentee.save()
        mentee.refresh_from_db()
        mentee.interests = ["art"]
        with self.assertRaises(IntegrityError), transaction.atomic():
            mentee.save()
        # So do the dependent records.
        from django.core.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            OutcomeMeasure.objects.create(
                community=self.community,
                mentee=Mentee.objects.get(pk=mentee.pk),
                measure="engagement",
                value=3,
                recorded_on=date.today(),
            )
        with self.assertRaisesMessage(services.YouthError, "consent"):
            services.match(mentee, make_mentor(program))

    def test_consent_through_the_page(self) -> None:
        program = make_program(self.community, self.supervisor)
        self.login(self.supervisor)
        born = timezone.localdate() - timedelta(days=12 * 365)
        response = self.client.post(
            f"/staff/c/north/youth/programs/{program.pk}/",
            {
                "name": "Kit Young",
                "date_of_birth": born.isoformat(),
                "guardian_name": "Lee Guardian",
                "guardian_contact": "555-0100",
            },
        )
        mentee = Mentee.objects.get(name="Kit Young")
        assert response.status_code == 302
        url = f"/staff/c/north/youth/mentees/{mentee.pk}/"
        response = self.client.post(
            url, {"action": "profile", "profile-interests": "art", "profile-school": "X"}
        )
        assert response.status_code == 200
        mentee.refresh_from_db()
        assert mentee.school == ""
        self.client.post(
            url,
            {"action": "consent", "consent-given_by": "Lee Guardian", "consent-method": "form"},
        )
        self.client.post(url, {"action": "profile", "profile-interests": "art, Music"})
        mentee.refresh_from_db()
        assert mentee.has_consent and mentee.interests == ["art", "music"]

    def test_adults_cannot_apply(self) -> None:
        program = make_program(self.community)
        with self.assertRaisesMessage(services.YouthError, "5 to 17"):
            services.apply(program, "Old", date(1990, 1, 1), "G", "g@x.org")


class SafeguardingTests(BeaconTestCase):
    program: YouthProgram
    mentee: Mentee

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.program = make_program(cls.community, cls.supervisor)
        cls.mentee = make_mentee(cls.program)
        make_partner(cls.community, contact_user=cls.partner)

    def test_officer_partner_and_outsider_get_404_on_a_mentee_page(self) -> None:
        url = f"/staff/c/north/youth/mentees/{self.mentee.pk}/"
        for user in (self.officer, self.analyst, self.outsider):
            self.login(user)
            assert self.client.get(url).status_code == 404, user
            program_url = f"/staff/c/north/youth/programs/{self.program.pk}/"
            assert self.client.get(program_url).status_code == 404, user
        # Partners and residents are not staff at all; still no trace of the record.
        for user in (self.partner, self.resident):
            self.login(user)
            assert self.client.get(url).status_code in (403, 404)
            assert self.mentee.name not in self.client.get(url).content.decode()
        assert AuditEvent.objects.filter(
            outcome="denied", object_type="youth.mentee", object_id=str(self.mentee.pk)
        ).exists()

    def test_program_staff_see_it_and_every_view_is_audited(self) -> None:
        self.login(self.supervisor)
        before = AuditEvent.objects.filter(action="view", object_type="youth.mentee").count()
        page = self.client.get(f"/staff/c/north/youth/mentees/{self.mentee.pk}/")
        self.assertContains(page, "Jo Young")
        self.client.get(f"/staff/c/north/youth/programs/{self.program.pk}/")
        views = AuditEvent.objects.filter(action="view", object_type="youth.mentee")
        assert views.count() == before + 2
        assert views.filter(actor=self.supervisor, object_id=str(self.mentee.pk)).exists()
        # Audit rows name the record by id, never the child's name.
        assert not AuditEvent.objects.filter(detail__icontains="Jo Young").exists()

    def test_admin_oversight_and_no_export(self) -> None:
        assert Mentee.objects.visible_to(self.admin).count() == 1
        assert Mentee.objects.restrict(self.supervisor, "export").count() == 0
        assert Mentee.objects.restrict(self.admin, "export").count() == 0
        for user in (self.officer, self.partner, self.analyst, self.resident):
            assert not Mentee.objects.visible_to(user).exists()
            assert not Mentor.objects.visible_to(user).exists()

    def test_removed_staff_lose_access(self) -> None:
        from beacon.core.models import Membership

        Membership.objects.filter(user=self.supervisor, community=self.community).delete()
        assert not Mentee.objects.visible_to(self.supervisor).exists()

    def test_never_on_public_or_partner_pages(self) -> None:
        for url in ("/c/north/", "/c/north/events/"):
            assert "Jo Young" not in self.client.get(url).content.decode()
        self.login(self.partner)
        assert "Jo Young" not in self.client.get("/c/north/partner/").content.decode()


class RetentionTests(BeaconTestCase):
    @override_settings(BEACON_YOUTH_RETENTION_DAYS=30)
    def test_purge_deletes_records_a_set_period_after_leaving(self) -> None:
        program = make_program(self.community, self.supervisor)
        leaver = make_mentee(program, name="Leaver")
        stayer = make_mentee(program, name="Stayer")
        pairing = services.match(leaver, make_mentor(program))
        services.log_session(pairing, date.today(), 30, "Walk")
        services.record_outcome(leaver, "engagement", 4, date.today())
        today = timezone.localdate()
        services.leave(leaver, today - timedelta(days=31))
        recent = make_mentee(program, name="Recent")
        services.leave(recent, today - timedelta(days=5))
        out = StringIO()
        call_command("purge_youth_records", stdout=out)
        assert "Deleted 1 mentee record " in out.getvalue()
        assert set(Mentee.objects.values_list("name", flat=True)) == {"Stayer", "Recent"}
        assert not SessionLog.objects.exists() and not OutcomeMeasure.objects.exists()
        assert not Match.objects.filter(mentee_id=leaver.pk).exists()
        assert AuditEvent.objects.filter(
            action="delete", object_type="youth.mentee", object_id=str(leaver.pk)
        ).exists()
        assert services.purge_expired() == 0  # idempotent
        assert stayer.pk in Mentee.objects.values_list("pk", flat=True)

    def test_task_runs_the_same_purge(self) -> None:
        from beacon.youth.tasks import purge_youth_records

        assert purge_youth_records.call() == 0
