from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.forums import services
from beacon.forums.models import (
    ActionStatus,
    ConcernStatus,
    ConcernSupport,
    MeetingStatus,
)
from beacon.forums.testing import concern_input, make_concern, make_meeting, resident


class ConcernTests(BeaconTestCase):
    def test_raise_resolves_areas_and_counts_author_support(self) -> None:
        concern = make_concern(self.community, self.resident)
        assert concern.beat == self.area("West beat")
        assert concern.neighbourhood == self.area("Northside")
        assert concern.support_count == 1
        assert services.has_supported(concern, self.resident)
        assert AuditEvent.objects.filter(action="create", object_id=str(concern.pk)).exists()

    def test_bad_concern_names_each_field(self) -> None:
        with pytest.raises(services.ForumError) as info:
            services.raise_concern(
                self.community,
                self.resident,
                concern_input(self.community, title="x", body="", category="nope", lat=10, lon=10),
            )
        assert set(info.value.errors) == {"title", "body", "category", "location"}
        assert "outside" in info.value.errors["location"][0]

    def test_only_members_raise(self) -> None:
        with pytest.raises(PermissionDenied):
            services.raise_concern(self.community, self.outsider, concern_input(self.community))

    def test_double_support_is_a_clear_error(self) -> None:
        concern = make_concern(self.community, self.resident)
        services.support_concern(concern, self.officer)
        with pytest.raises(services.AlreadySupported, match="already support"):
            services.support_concern(concern, self.officer)
        with pytest.raises(services.AlreadySupported):
            services.support_concern(concern, self.resident)  # the author counts already
        concern.refresh_from_db()
        assert concern.support_count == 2 == concern.supports.count()

    def test_database_refuses_a_second_support_row(self) -> None:
        concern = make_concern(self.community, self.resident)
        with pytest.raises(IntegrityError), transaction.atomic():
            ConcernSupport.objects.create(
                community=self.community, concern=concern, user=self.resident
            )

    def test_anonymous_and_outsiders_cannot_support(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        concern = make_concern(self.community, self.resident)
        with pytest.raises(services.SignInRequired):
            services.support_concern(concern, AnonymousUser())
        with pytest.raises(PermissionDenied):
            services.support_concern(concern, self.outsider)

    def test_withdraw_support(self) -> None:
        concern = make_concern(self.community, self.resident)
        services.support_concern(concern, self.partner)
        assert services.withdraw_support(concern, self.partner).support_count == 1
        with pytest.raises(services.ForumError):
            services.withdraw_support(concern, self.resident)

    def test_crossing_threshold_puts_concern_on_next_beat_meeting(self) -> None:
        settings_row = services.settings_for(self.community)
        settings_row.support_threshold = 3
        settings_row.save()
        later = make_meeting(self.community, days=14, area=self.area("West beat"))
        meeting = make_meeting(self.community, days=7, area=self.area("West beat"))
        other_beat = make_meeting(self.community, days=3, area=self.area("East beat"))
        concern = make_concern(self.community, self.resident)
        services.support_concern(concern, self.partner)
        assert meeting.agenda.count() == 0
        services.support_concern(concern, self.watch_coordinator)  # third support
        concern.refresh_from_db()
        assert concern.status == ConcernStatus.ON_AGENDA
        assert concern.threshold_reached_at is not None
        assert list(meeting.agenda.values_list("concern_id", flat=True)) == [concern.pk]
        assert not later.agenda.exists() and not other_beat.agenda.exists()
        # Idempotent: building again adds nothing.
        assert services.build_agenda(meeting) == []

    def test_new_meeting_picks_up_waiting_concerns_up_to_agenda_size(self) -> None:
        settings_row = services.settings_for(self.community)
        settings_row.support_threshold = 1
        settings_row.agenda_size = 2
        settings_row.save()
        concerns = [make_concern(self.community, title=f"Concern number {i}") for i in range(3)]
        services.support_concern(concerns[2], self.resident)
        meeting = make_meeting(self.community, area=self.area("West beat"))
        on_agenda = list(meeting.agenda.values_list("concern_id", flat=True))
        assert on_agenda[0] == concerns[2].pk  # most supported first
        assert len(on_agenda) == 2
        services.add_agenda_item(meeting, self.officer, "Crime update from the beat officer")
        assert meeting.agenda.count() == 3

    def test_cancelled_meeting_releases_its_concerns(self) -> None:
        services.settings_for(self.community).__class__.objects.filter(
            community=self.community
        ).update(support_threshold=1)
        meeting = make_meeting(self.community)
        concern = make_concern(self.community, self.resident)
        concern.refresh_from_db()
        assert concern.status == ConcernStatus.ON_AGENDA
        services.cancel_meeting(meeting, self.officer)
        concern.refresh_from_db()
        assert concern.status == ConcernStatus.OPEN
        second = make_meeting(self.community, days=10)
        assert second.agenda.filter(concern=concern).exists()

    def test_answer_and_problem_request(self) -> None:
        concern = make_concern(self.community, self.resident)
        with pytest.raises(PermissionDenied):
            services.answer_concern(concern, self.resident, "No")
        with pytest.raises(services.ForumError):
            services.answer_concern(concern, self.officer, "  ")
        services.answer_concern(concern, self.officer, "We will patrol at 3 pm.")
        assert concern.status == ConcernStatus.ANSWERED
        services.request_problem(concern, self.officer)
        # The problems app opens the SARA problem at once and links it.
        assert concern.problem_requested_at is not None and concern.problem_id is not None


class MeetingTests(BeaconTestCase):
    def data(self, **overrides: object) -> services.MeetingInput:
        values: dict[str, object] = {
            "title": "Beat meeting",
            "starts_at": timezone.now() + timedelta(days=2),
            "venue": "Library",
        }
        values.update(overrides)
        return services.MeetingInput(**values)  # type: ignore[arg-type]

    def test_meeting_without_time_is_a_clear_error(self) -> None:
        with pytest.raises(services.ForumError) as info:
            services.schedule_meeting(self.community, self.officer, self.data(starts_at=None))
        assert info.value.errors == {"starts_at": ["A meeting needs a start time (date and time)."]}

    def test_other_meeting_errors(self) -> None:
        start = timezone.now() + timedelta(days=1)
        with pytest.raises(services.ForumError) as info:
            services.schedule_meeting(
                self.community,
                self.officer,
                self.data(title="", venue="", ends_at=start, starts_at=start, online_url="ftp://x"),
            )
        assert set(info.value.errors) == {"title", "ends_at", "online_url"}
        with pytest.raises(services.ForumError) as info:
            services.schedule_meeting(self.community, self.officer, self.data(venue=""))
        assert "venue" in info.value.errors

    def test_only_staff_schedule(self) -> None:
        with pytest.raises(PermissionDenied):
            services.schedule_meeting(self.community, self.resident, self.data())

    def test_registration(self) -> None:
        meeting = make_meeting(self.community)
        services.register(meeting, user=self.resident)
        with pytest.raises(services.ForumError, match="already registered"):
            services.register(meeting, user=self.resident)
        services.register(meeting, name="Kim", email="KIM@example.test")
        with pytest.raises(services.ForumError, match="already registered"):
            services.register(meeting, name="Kim", email="kim@example.test")
        with pytest.raises(services.ForumError) as info:
            services.register(meeting, name="", email="not-an-email")
        assert set(info.value.errors) == {"name", "email"}
        assert meeting.registrations.count() == 2

    def test_minutes_create_action_items_on_public_tracker(self) -> None:
        services.settings_for(self.community).__class__.objects.filter(
            community=self.community
        ).update(support_threshold=1)
        meeting = make_meeting(self.community, days=1)
        concern = make_concern(self.community, self.resident)
        reg = services.register(meeting, user=self.resident)
        meeting.starts_at = timezone.now() - timedelta(hours=2)
        meeting.save()
        services.record_attendance(meeting, self.officer, {reg.pk}, walk_ins=4)
        assert meeting.attendance == 5
        due = timezone.localdate() + timedelta(days=21)
        items = services.record_minutes(
            meeting,
            self.officer,
            minutes="Twelve residents discussed speeding.",
            decisions=["Ask for a speed display sign", ""],
            actions=[
                services.ActionInput(
                    "Speed enforcement at pick-up", "Const. Olu", due, concern_id=concern.pk
                ),
                services.ActionInput("Request speed humps", "City engineering", due),
            ],
        )
        meeting.refresh_from_db()
        assert meeting.status == MeetingStatus.HELD
        assert meeting.decisions.count() == 1
        assert len(items) == 2
        tracker = services.tracker(self.community, None)
        assert {i.title for i in tracker} == {"Speed enforcement at pick-up", "Request speed humps"}
        concern.refresh_from_db()
        assert concern.status == ConcernStatus.IN_ACTION
        # Closing the concern's only action resolves the concern and leaves the tracker.
        with pytest.raises(services.ForumError, match="Say what was done"):
            services.update_action(items[0], self.officer, progress=100, status="completed")
        services.update_action(
            items[0], self.officer, progress=50, status="completed", result="Four tickets."
        )
        assert items[0].progress == 100 and items[0].closed_at is not None
        concern.refresh_from_db()
        assert concern.status == ConcernStatus.RESOLVED
        assert services.tracker(self.community, None).count() == 1
        ysw = list(services.you_said_we_did(self.community, None))
        assert ysw == [concern]

    def test_bad_action_rolls_back_minutes(self) -> None:
        meeting = make_meeting(self.community, days=1)
        meeting.starts_at = timezone.now() - timedelta(hours=1)
        meeting.save()
        with pytest.raises(services.ForumError) as info:
            services.record_minutes(
                meeting,
                self.officer,
                minutes="Notes",
                decisions=["x"],
                actions=[services.ActionInput("", "", None)],
            )
        assert len(info.value.errors["actions"]) == 3
        meeting.refresh_from_db()
        assert meeting.status == MeetingStatus.SCHEDULED and not meeting.decisions.exists()

    def test_action_progress_validation_and_owner_grant(self) -> None:
        item = services.create_action_item(
            self.community,
            self.officer,
            services.ActionInput(
                "Clean up the lane", "Partner", timezone.localdate(), owner_id=self.partner.pk
            ),
        )
        with pytest.raises(services.ForumError):
            services.update_action(item, self.partner, progress=150, status="in_progress")
        services.update_action(item, self.partner, progress=30, status="open", note="Started")
        assert item.status == ActionStatus.IN_PROGRESS
        with pytest.raises(PermissionDenied):
            services.update_action(item, resident(self.community, "r2"), progress=1, status="open")
