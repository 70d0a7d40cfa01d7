"""The iCalendar feeds parse with the icalendar library and follow RFC 5545."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from beacon.core.testing import BeaconTestCase
from beacon.programs import services, tokens
from beacon.programs.models import Program
from beacon.programs.testing import confirmed_registration, make_event, make_program


def check_rfc5545(body: bytes) -> Calendar:
    """Parse a feed and check the properties and line format RFC 5545 requires."""
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    # Content lines are folded at 75 octets (section 3.1).
    assert max(len(line) for line in lines) <= 75
    calendar = Calendar.from_ical(body)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar["PRODID"]
    uids = set()
    for component in calendar.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            assert required in component, required
        start = component.decoded("DTSTART")
        assert component.decoded("DTEND") > start
        assert start.tzinfo is not None
        uids.add(str(component["UID"]))
    assert len(uids) == len(calendar.walk("VEVENT"))
    return calendar


class FeedTests(BeaconTestCase):
    def test_community_feed(self) -> None:
        event = make_event(self.community, sessions=3)
        event.description = "A long description " * 20  # forces folding
        event.save()
        make_event(self.community, publish=False)  # drafts stay out
        response = self.client.get("/c/north/events.ics")
        assert response["Content-Type"].startswith("text/calendar")
        calendar = check_rfc5545(response.content)
        events = calendar.walk("VEVENT")
        assert len(events) == 3
        assert str(events[0]["SUMMARY"]) == "Home security workshop"
        assert "GEO" in events[0] and "LOCATION" in events[0]

    def test_program_feed_and_private_programs(self) -> None:
        program = make_program(self.community)
        other = make_program(self.community, "Fraud prevention")
        make_event(self.community, program=program)
        make_event(self.community, program=other)
        calendar = check_rfc5545(
            self.client.get(f"/c/north/programs/{program.pk}/events.ics").content
        )
        assert len(calendar.walk("VEVENT")) == 1
        Program.objects.filter(pk=program.pk).update(is_public=False)
        assert self.client.get(f"/c/north/programs/{program.pk}/events.ics").status_code == 404
        assert (
            len(Calendar.from_ical(self.client.get("/c/north/events.ics").content).walk("VEVENT"))
            == 1
        )

    def test_person_feed_by_signed_link(self) -> None:
        first = make_event(self.community)
        second = make_event(self.community, starts_in=timedelta(days=10), capacity=0)
        make_event(self.community, starts_in=timedelta(days=12))  # not registered
        registration = confirmed_registration(first, "me@x.org")
        waiting = confirmed_registration(second, "me@x.org")
        assert waiting.status == "waitlisted"
        token = tokens.make(tokens.FEED, registration.pk)
        calendar = check_rfc5545(self.client.get(f"/c/north/events/calendar/{token}.ics").content)
        statuses = sorted(str(e["STATUS"]) for e in calendar.walk("VEVENT"))
        assert statuses == ["CONFIRMED", "TENTATIVE"]
        assert self.client.get("/c/north/events/calendar/forged.ics").status_code == 404

    def test_moved_session_bumps_sequence_and_cancel_marks_cancelled(self) -> None:
        event = make_event(self.community)
        session = event.sessions.get()
        services.save_session(
            event,
            services.SessionData(
                starts_at=session.starts_at + timedelta(hours=1),
                ends_at=session.ends_at + timedelta(hours=1),
                venue=session.venue,
                lat=session.lat,
                lon=session.lon,
            ),
            session=session,
        )
        services.set_event_status(event, "cancelled")
        vevent = check_rfc5545(self.client.get("/c/north/events.ics").content).walk("VEVENT")[0]
        assert vevent.decoded("SEQUENCE") == 2
        assert str(vevent["STATUS"]) == "CANCELLED"
