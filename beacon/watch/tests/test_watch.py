"""Watch groups: membership approval, training expiry, patrols, the board, and members'
reports reaching the beat officer with the group's context."""

from __future__ import annotations

from datetime import date, timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from beacon.core.testing import BeaconTestCase, box_polygon
from beacon.notify import outbox
from beacon.notify.models import Cover
from beacon.officers.services import assign_beat
from beacon.reports import services as reports
from beacon.reports.testing import make_categories
from beacon.watch import services
from beacon.watch.models import MemberStatus, TrainingModule, WatchGroup
from beacon.watch.testing import make_group


class WatchTestCase(BeaconTestCase):
    group: WatchGroup

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.group = make_group(cls.community, cls.watch_coordinator)

    def join_and_approve(self) -> None:
        membership = services.request_membership(self.group, self.resident, block="1200 block")
        services.decide_membership(membership, actor=self.watch_coordinator, approve=True)


class GroupTests(WatchTestCase):
    def test_group_area_follows_neighbourhoods_and_feeds_alert_covers(self) -> None:
        cover = Cover.objects.get(key=self.group.cover_key)
        self.assertEqual(cover.kind, "watch_group")
        self.assertTrue(cover.cells.exists())
        self.assertEqual(services.coordinators(self.group), [self.watch_coordinator])
        services.save_group(
            self.community,
            actor=self.watch_coordinator,
            name="Northside Watch",
            geometry=box_polygon(-123.135, 49.265, -123.12, 49.275),
            group=self.group,
        )
        cover.refresh_from_db()
        self.assertEqual(cover.geometry, self.group.geometry)

    def test_residents_cannot_start_groups_and_bad_areas_are_refused(self) -> None:
        with self.assertRaises(services.WatchError):
            make_group(self.community, self.resident)
        with self.assertRaises(services.WatchError) as caught:
            services.save_group(
                self.community,
                actor=self.watch_coordinator,
                name="Far away",
                geometry=box_polygon(-122.0, 49.0, -121.9, 49.1),
            )
        self.assertIn("outside the community boundary", str(caught.exception))


class MembershipTests(WatchTestCase):
    def test_request_is_approved_by_a_coordinator_and_both_are_told(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            membership = services.request_membership(self.group, self.resident, message="Hi")
        self.assertEqual(membership.status, MemberStatus.REQUESTED)
        self.assertEqual([m.to for m in mail.outbox], [[self.watch_coordinator.email]])
        with self.assertRaises(services.WatchError):
            services.decide_membership(membership, actor=self.resident, approve=True)
        with self.captureOnCommitCallbacks(execute=True):
            services.decide_membership(membership, actor=self.watch_coordinator, approve=True)
        membership.refresh_from_db()
        self.assertEqual(membership.status, MemberStatus.ACTIVE)
        self.assertIn("Welcome to Northside Watch", mail.outbox[-1].subject)
        self.assertEqual(mail.outbox[-1].to, [self.resident.email])

    def test_join_and_approve_through_the_pages(self) -> None:
        url = reverse("watch:group", args=[self.community.slug, self.group.slug])
        self.login(self.resident)
        response = self.client.post(url, {"action": "join", "block": "Oak St"})
        self.assertRedirects(response, url)
        self.assertContains(self.client.get(url), "waiting for a coordinator")
        self.assertEqual(self.client.post(url, {"action": "board", "body": "hi"}).status_code, 400)
        self.login(self.watch_coordinator)
        page = self.client.get(url)
        self.assertContains(page, "Oak St")
        request = self.group.memberships.get(user=self.resident)
        response = self.client.post(
            url, {"action": "decide", "member": request.pk, "decision": "approve"}
        )
        self.assertRedirects(response, url)
        self.login(self.resident)
        self.assertContains(self.client.get(url), "Group board")
        self.assertRedirects(self.client.post(url, {"action": "board", "body": "Hello all"}), url)

    def test_only_members_see_the_board_and_patrols(self) -> None:
        self.join_and_approve()
        services.post_message(self.group, self.resident, "Lights out on Elm")
        url = reverse("watch:group", args=[self.community.slug, self.group.slug])
        self.assertNotContains(self.client.get(url), "Lights out on Elm")
        self.login(self.partner)
        self.assertNotContains(self.client.get(url), "Lights out on Elm")
        self.login(self.officer)
        self.assertContains(self.client.get(url), "Group board")
        with self.assertRaises(services.WatchError):
            services.post_message(self.group, self.partner, "Not a member")


class TrainingAndPatrolTests(WatchTestCase):
    def test_training_expires(self) -> None:
        self.join_and_approve()
        membership = self.group.memberships.get(user=self.resident)
        module = TrainingModule.objects.create(
            community=self.community, title="Observe and report", valid_months=12
        )
        old = timezone.localdate() - timedelta(days=400)
        record = services.record_training(
            membership, module, actor=self.watch_coordinator, completed_on=old
        )
        self.assertEqual(record.expires_on, services.add_months(old, 12))
        self.assertEqual(services.training_status(membership)[0].state, "expired")
        self.assertFalse(services.is_trained(membership))
        services.record_training(
            membership, module, actor=self.watch_coordinator, completed_on=timezone.localdate()
        )
        self.assertTrue(services.is_trained(membership))
        self.assertEqual(services.add_months(date(2024, 1, 31), 1), date(2024, 2, 29))

    def test_patrol_log(self) -> None:
        self.join_and_approve()
        now = timezone.now()
        patrol = services.log_patrol(
            self.group,
            self.resident,
            started_at=now - timedelta(hours=2),
            ended_at=now - timedelta(hours=1),
            route="Elm and Oak",
            observations="Gate left open at the school",
            patrollers=3,
        )
        self.assertEqual(patrol.group, self.group)
        with self.assertRaises(services.WatchError) as caught:
            services.log_patrol(
                self.group,
                self.resident,
                started_at=now,
                ended_at=now - timedelta(hours=1),
                route="",
            )
        self.assertEqual(set(caught.exception.errors), {"ended_at", "route"})


class MemberReportTests(WatchTestCase):
    def test_members_report_reaches_the_beat_queue_with_group_context(self) -> None:
        make_categories(self.community)
        west = self.area("West beat")
        assign_beat(west, self.officer, actor=self.supervisor)
        self.join_and_approve()
        filed = services.file_member_report(
            self.group,
            self.resident,
            description="Two people trying car doors",
            lat=49.275,
            lon=-123.13,
            category="graffiti",
            answers={"surface": "wall"},
        )
        report = filed.report
        self.assertEqual(report.watch_group, self.group)
        self.assertEqual(report.beat, west)
        queue = reports.queue(self.officer, self.community, reports.QueueFilter(mine=True))
        self.assertIn(report, list(queue))
        self.login(self.officer)
        page = self.client.get(reverse("reports:triage", args=[self.community.slug, report.pk]))
        self.assertContains(page, "Filed by a member of Northside Watch")

    def test_non_members_cannot_report_as_the_group(self) -> None:
        make_categories(self.community)
        with self.assertRaises(services.WatchError):
            services.file_member_report(
                self.group, self.partner, description="x", lat=49.27, lon=-123.13
            )

    def test_coordinator_broadcasts_inside_the_group_area_only(self) -> None:
        from beacon.notify import broadcasts
        from beacon.notify.services import AlertError, SubscriptionRequest, subscribe

        subscribe(
            self.community,
            self.resident,
            SubscriptionRequest(
                area_kind="watch_group", topics=["broadcast"], group_id=self.group.pk
            ),
        )
        inside = box_polygon(-123.135, 49.272, -123.125, 49.278)
        self.assertEqual(
            broadcasts.preview_broadcast(self.community, self.watch_coordinator, inside), 1
        )
        with self.captureOnCommitCallbacks(execute=True):
            event = broadcasts.send_broadcast(
                self.community, self.watch_coordinator, inside, "Meeting", "Thursday 7 pm"
            )
        outbox.deliver_due()
        self.assertEqual(event.recipients, 1)
        self.assertEqual([m.to for m in mail.outbox], [[self.resident.email]])
        outside = box_polygon(-123.135, 49.262, -123.125, 49.268)  # Southside, not ours
        with self.assertRaises(AlertError) as caught:
            broadcasts.preview_broadcast(self.community, self.watch_coordinator, outside)
        self.assertIn("inside your beats or your group's area", str(caught.exception))
