"""Every page of programs, partners and youth renders, with no inline script or style."""

from __future__ import annotations

from beacon.core.testing import BeaconTestCase
from beacon.partners.testing import make_initiative, make_partner
from beacon.programs import tokens
from beacon.programs.testing import confirmed_registration, make_event
from beacon.youth.testing import make_mentee, make_mentor, make_program


class PageSmokeTests(BeaconTestCase):
    def test_pages_render(self) -> None:
        event = make_event(self.community)
        registration = confirmed_registration(event)
        partner = make_partner(self.community, contact_user=self.partner)
        initiative = make_initiative(self.community, partner)
        program = make_program(self.community, self.supervisor)
        make_mentor(program)
        mentee = make_mentee(program)
        public = [
            "/c/north/events/",
            f"/c/north/events/{event.pk}/",
            f"/c/north/programs/{event.program_id}/",
            f"/c/north/events/registration/{tokens.make(tokens.MANAGE, registration.pk)}/",
            f"/c/north/events/confirm/{tokens.make(tokens.CONFIRM, registration.pk)}/",
        ]
        staff = [
            "/staff/c/north/programs/",
            f"/staff/c/north/programs/{event.program_id}/",
            "/staff/c/north/events/",
            f"/staff/c/north/events/{event.pk}/",
            "/staff/c/north/partners/",
            f"/staff/c/north/partners/{partner.pk}/",
            "/staff/c/north/initiatives/new/",
            f"/staff/c/north/initiatives/{initiative.pk}/",
            "/staff/c/north/youth/",
            f"/staff/c/north/youth/programs/{program.pk}/",
            f"/staff/c/north/youth/mentees/{mentee.pk}/",
            "/staff/",
        ]
        self.login(self.supervisor)
        for url in public + staff:
            response = self.client.get(url, follow=True)
            assert response.status_code == 200, url
            page = response.content.decode()
            assert "<script>" not in page and "style=" not in page, url
        self.assertContains(self.client.get("/staff/"), "Youth mentorship")
        self.login(self.partner)
        self.assertContains(self.client.get("/staff/"), "Partner portal")
        self.assertContains(self.client.get("/c/north/"), "Events and workshops")
