"""Registration without an account, confirmation, waiting list, reminders, check-in."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.programs import figures, services, tasks, tokens
from beacon.programs.models import Attendance, Registration, RegistrationStatus
from beacon.programs.testing import confirmed_registration, make_event


def link(body: object, kind: str) -> str:
    match = re.search(rf"http://[^/]+(/c/[^\s]+/events/{kind}/[^\s]+/)", str(body))
    assert match, body
    return match.group(1)


class WorkshopJourneyTests(BeaconTestCase):
    """The issue's "done when": register, confirm, reminder, check-in, counted."""

    def test_resident_registers_confirms_is_reminded_checked_in_and_counted(self) -> None:
        event = make_event(self.community, capacity=10)
        page = self.client.get(f"/c/north/events/{event.pk}/")
        self.assertContains(page, "Home security workshop")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                f"/c/north/events/{event.pk}/", {"name": "Robin Resident", "email": "robin@x.org"}
            )
        self.assertContains(response, "Check your email")
        registration = Registration.objects.get(email="robin@x.org")
        assert registration.status == RegistrationStatus.PENDING
        assert registration.user is None
        assert len(mail.outbox) == 1 and "Confirm your place" in mail.outbox[0].subject
        confirm_path = link(mail.outbox[0].body, "confirm")

        # Opening the link shows a button; only the POST confirms (mail scanners GET).
        self.assertContains(self.client.get(confirm_path), "Confirm my place")
        registration.refresh_from_db()
        assert registration.status == RegistrationStatus.PENDING
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(confirm_path)
        assert response.status_code == 302
        registration.refresh_from_db()
        assert registration.status == RegistrationStatus.CONFIRMED
        assert len(mail.outbox) == 2 and "You have a place" in mail.outbox[1].subject
        manage_path = link(mail.outbox[1].body, "registration")
        page = self.client.get(manage_path)
        self.assertContains(page, "data:image/svg+xml")  # the QR code

        # The reminder a day before, sent by the worker's sweep; a second run sends nothing.
        session = event.sessions.get()
        out = StringIO()
        at = (session.starts_at - timedelta(hours=20)).isoformat()
        call_command("send_event_reminders", "--now", at, stdout=out)
        assert "1 reminder" in out.getvalue()
        assert "Reminder" in mail.outbox[2].subject and mail.outbox[2].to == ["robin@x.org"]
        call_command("send_event_reminders", "--now", at, stdout=StringIO())
        assert len(mail.outbox) == 3

        # The QR code leads staff to the check-in page.
        scan = tokens.make(tokens.CHECK_IN, registration.pk)
        self.login(self.officer)
        page = self.client.get(f"/staff/c/north/check-in/{scan}/")
        self.assertContains(page, "Robin Resident")
        self.client.post(f"/staff/c/north/check-in/{scan}/", {"session": session.pk})
        assert Attendance.objects.filter(registration=registration, session=session).exists()
        assert services.attendance_count(event) == 1
        totals = figures.compute(self.community, "program").totals
        assert [(t.key, t.confirmed, t.attended) for t in totals] == [
            ("Home security basics", 1, 1)
        ]
        page = self.client.get("/staff/c/north/programs/figures/")
        self.assertContains(page, "Home security basics")
        assert AuditEvent.objects.filter(action="check_in").count() == 1

    def test_reminder_scheduled_at_confirmation_when_the_session_is_near(self) -> None:
        event = make_event(self.community, starts_in=timedelta(hours=5))
        with self.captureOnCommitCallbacks(execute=True):
            registration = services.register(event, "Al", "al@x.org").registration
        with self.captureOnCommitCallbacks(execute=True):
            services.confirm(registration)
        subjects = [m.subject for m in mail.outbox]
        assert any("Reminder" in s for s in subjects), subjects
        # The task is idempotent: running it again sends nothing.
        assert tasks.deliver_reminder(registration.pk) is False


class WaitingListTests(BeaconTestCase):
    def test_over_capacity_goes_to_waiting_list_and_moves_up_on_cancel(self) -> None:
        event = make_event(self.community, capacity=1)
        first = confirmed_registration(event, "a@x.org")
        second = confirmed_registration(event, "b@x.org")
        third = confirmed_registration(event, "c@x.org")
        assert first.status == RegistrationStatus.CONFIRMED
        assert second.status == RegistrationStatus.WAITLISTED
        assert services.waitlist_position(second) == 1
        assert services.waitlist_position(third) == 2
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.cancel(first)
        second.refresh_from_db()
        third.refresh_from_db()
        assert second.status == RegistrationStatus.CONFIRMED
        assert third.status == RegistrationStatus.WAITLISTED
        assert services.waitlist_position(third) == 1
        assert [m.to for m in mail.outbox] == [["b@x.org"]]
        assert "a place has come free" in mail.outbox[0].body

    def test_pending_registrations_do_not_take_seats(self) -> None:
        event = make_event(self.community, capacity=1)
        services.register(event, "Pending", "p@x.org")
        assert confirmed_registration(event, "q@x.org").status == RegistrationStatus.CONFIRMED

    def test_full_event_page_says_waiting_list(self) -> None:
        event = make_event(self.community, capacity=1)
        confirmed_registration(event, "a@x.org")
        self.assertContains(self.client.get(f"/c/north/events/{event.pk}/"), "waiting list")

    def test_registering_twice_resends_and_does_not_duplicate(self) -> None:
        event = make_event(self.community)
        first = services.register(event, "Al", "AL@x.org")
        again = services.register(event, "Al", "al@x.org")
        assert not again.created and again.registration.pk == first.registration.pk
        assert Registration.objects.filter(event=event).count() == 1

    def test_signed_in_user_with_own_address_needs_no_link(self) -> None:
        event = make_event(self.community)
        self.client.force_login(self.resident)
        response = self.client.post(
            f"/c/north/events/{event.pk}/", {"name": "Res", "email": self.resident.email}
        )
        assert response.status_code == 302
        registration = Registration.objects.get(email=self.resident.email)
        assert registration.status == RegistrationStatus.CONFIRMED
        assert registration.user == self.resident

    def test_raising_capacity_promotes(self) -> None:
        event = make_event(self.community, capacity=0)
        waiting = confirmed_registration(event)
        assert waiting.status == RegistrationStatus.WAITLISTED
        services.save_event(
            self.community,
            services.EventData(title=event.title, kind=event.kind, capacity=5),
            event=event,
        )
        waiting.refresh_from_db()
        assert waiting.status == RegistrationStatus.CONFIRMED

    def test_cancel_from_the_registration_page(self) -> None:
        event = make_event(self.community)
        registration = confirmed_registration(event)
        token = tokens.make(tokens.MANAGE, registration.pk)
        self.client.post(f"/c/north/events/registration/{token}/", {"cancel": "1"})
        registration.refresh_from_db()
        assert registration.status == RegistrationStatus.CANCELLED


class BadInputTests(BeaconTestCase):
    def test_invalid_email_gets_a_clear_error(self) -> None:
        event = make_event(self.community)
        response = self.client.post(
            f"/c/north/events/{event.pk}/", {"name": "X", "email": "not-an-address"}
        )
        self.assertContains(response, "Enter a valid email address")
        assert not Registration.objects.exists()

    def test_event_ending_before_it_starts(self) -> None:
        event = make_event(self.community, publish=False)
        start = timezone.now() + timedelta(days=3)
        with self.assertRaisesMessage(services.ProgramError, "must end after it starts"):
            services.save_session(
                event,
                services.SessionData(
                    starts_at=start,
                    ends_at=start - timedelta(hours=1),
                    venue="Hall",
                    lat=49.27,
                    lon=-123.125,
                ),
            )
        self.login(self.officer)
        response = self.client.post(
            "/staff/c/north/events/",
            {
                "event-title": "Fair",
                "event-kind": "safety_fair",
                "event-audience": "everyone",
                "session-starts_at": "2030-05-01T18:00",
                "session-ends_at": "2030-05-01T17:00",
                "session-venue": "Hall",
                "session-lat": "49.27",
                "session-lon": "-123.125",
            },
        )
        self.assertContains(response, "The session must end after it starts.")

    def test_negative_capacity(self) -> None:
        with self.assertRaisesMessage(services.ProgramError, "Capacity cannot be negative"):
            services.save_event(
                self.community, services.EventData(title="Walk", kind="patrol_walk", capacity=-1)
            )
        self.login(self.officer)
        response = self.client.post(
            "/staff/c/north/events/",
            {
                "event-title": "Fair",
                "event-kind": "safety_fair",
                "event-audience": "everyone",
                "event-capacity": "-5",
                "session-starts_at": "2030-05-01T18:00",
                "session-ends_at": "2030-05-01T20:00",
                "session-venue": "Hall",
                "session-lat": "49.27",
                "session-lon": "-123.125",
            },
        )
        self.assertContains(response, "Capacity cannot be negative")

    def test_session_outside_the_community(self) -> None:
        event = make_event(self.community, publish=False)
        start = timezone.now() + timedelta(days=3)
        with self.assertRaisesMessage(services.ProgramError, "outside the community"):
            services.save_session(
                event,
                services.SessionData(
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    venue="Far",
                    lat=10.0,
                    lon=10.0,
                ),
            )

    def test_draft_and_past_events_refuse_registration(self) -> None:
        draft = make_event(self.community, publish=False)
        with self.assertRaisesMessage(services.ProgramError, "not open"):
            services.register(draft, "A", "a@x.org")
        assert self.client.get(f"/c/north/events/{draft.pk}/").status_code == 404
        past = make_event(self.community, starts_in=timedelta(days=-2))
        with self.assertRaisesMessage(services.ProgramError, "over"):
            services.register(past, "A", "a@x.org")

    def test_bad_links_are_404(self) -> None:
        assert self.client.get("/c/north/events/registration/nope/").status_code == 404
        event = make_event(self.community)
        registration = confirmed_registration(event)
        # A confirmation token is not a management token.
        token = tokens.make(tokens.CONFIRM, registration.pk)
        assert self.client.get(f"/c/north/events/registration/{token}/").status_code == 404
        # Nor does a link of one community open in another.
        token = tokens.make(tokens.MANAGE, registration.pk)
        assert self.client.get(f"/c/south/events/registration/{token}/").status_code == 404


class FeedbackAndStaffTests(BeaconTestCase):
    def test_feedback_after_the_event(self) -> None:
        event = make_event(self.community, starts_in=timedelta(hours=-1))
        registration = confirmed_registration(event)
        token = tokens.make(tokens.FEEDBACK, registration.pk)
        response = self.client.post(f"/c/north/events/feedback/{token}/", {"rating": "6"})
        assert response.status_code == 200 and not hasattr(registration, "feedback")
        response = self.client.post(
            f"/c/north/events/feedback/{token}/", {"rating": "5", "comment": "Great"}
        )
        self.assertContains(response, "Thank you")
        rows = figures.compute(self.community, "audience").totals
        assert rows[0].feedback == 1 and rows[0].average_rating == 5
        with self.assertRaisesMessage(services.ProgramError, "already"):
            services.leave_feedback(registration, 3)

    def test_feedback_not_before_the_event(self) -> None:
        registration = confirmed_registration(make_event(self.community))
        with self.assertRaisesMessage(services.ProgramError, "opens when"):
            services.leave_feedback(registration, 3)

    def test_staff_pages_and_roles(self) -> None:
        event = make_event(self.community)
        registration = confirmed_registration(event)
        self.login(self.resident)
        assert self.client.get("/staff/c/north/events/").status_code == 403
        self.login(self.outsider)
        assert self.client.get("/staff/c/north/events/").status_code == 404
        assert self.client.get(f"/staff/c/north/events/{event.pk}/").status_code == 404
        self.login(self.analyst)
        assert self.client.get(f"/staff/c/north/events/{event.pk}/").status_code == 200
        response = self.client.post(
            f"/staff/c/north/events/{event.pk}/",
            {"action": "check_in", "session": event.sessions.get().pk, "registration": 1},
        )
        assert response.status_code == 403  # analysts read, officers act
        self.login(self.officer)
        session = event.sessions.get()
        self.client.post(
            f"/staff/c/north/events/{event.pk}/",
            {"action": "check_in", "session": session.pk, "registration": registration.pk},
        )
        assert Attendance.objects.filter(registration=registration).count() == 1
        page = self.client.get(f"/staff/c/north/events/{event.pk}/")
        self.assertContains(page, "Checked in")
        for url in ("/staff/c/north/programs/", "/staff/c/north/programs/figures/?by=area"):
            assert self.client.get(url).status_code == 200, url
        chart = self.client.get("/staff/c/north/programs/figures.png")
        assert chart["Content-Type"] == "image/png"

    def test_staff_create_event_publish_and_cancel_notifies(self) -> None:
        self.login(self.officer)
        response = self.client.post(
            "/staff/c/north/events/",
            {
                "event-title": "Safety fair",
                "event-kind": "safety_fair",
                "event-audience": "families",
                "event-capacity": "50",
                "event-registration_open": "on",
                "session-starts_at": "2030-05-01T18:00",
                "session-ends_at": "2030-05-01T20:00",
                "session-venue": "Park",
                "session-lat": "49.275",
                "session-lon": "-123.125",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        event = self.community.events.get(title="Safety fair")
        assert event.sessions.get().area is not None
        self.client.post(f"/staff/c/north/events/{event.pk}/", {"action": "published"})
        event.refresh_from_db()
        assert event.status == "published"
        registration = confirmed_registration(event)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(f"/staff/c/north/events/{event.pk}/", {"action": "cancelled"})
        assert [m.to for m in mail.outbox] == [[registration.email]]
        assert "Cancelled" in mail.outbox[0].subject

    def test_status_email_is_sent_once(self) -> None:
        registration = confirmed_registration(make_event(self.community))
        mail.outbox.clear()
        assert tasks.send_status_email.call(registration.pk) is True
        assert tasks.send_status_email.call(registration.pk) is False
        assert len(mail.outbox) == 1
