"""Signed webhooks against a real HTTP server on 127.0.0.1, and the address checks."""

from __future__ import annotations

import json
import socket
from typing import Any
from unittest import mock

from django.test import override_settings

from beacon.core.testing import BeaconTestCase
from beacon.notify import channels, services
from beacon.notify.models import Channel, CoverKind, OutboxMessage, Status, Topic
from beacon.notify.tests.receiver import Receiver, start_receiver

HOME = (49.2700, -123.1250)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebhookTests(BeaconTestCase):
    receiver: Receiver

    def setUp(self) -> None:
        super().setUp()
        self.receiver = start_receiver()
        self.addCleanup(self.receiver.close)

    def request(self, url: str) -> services.SubscriptionRequest:
        return services.SubscriptionRequest(
            area_kind=CoverKind.RADIUS,
            topics=[Topic.INCIDENT, Topic.BROADCAST],
            channel=Channel.WEBHOOK,
            target=url,
            lat=HOME[0],
            lon=HOME[1],
            radius_m=800,
        )

    @override_settings(BEACON_WEBHOOK_ALLOW_PRIVATE=True)
    def test_subscriber_receives_a_correctly_signed_payload(self) -> None:
        subscribed = services.subscribe(
            self.community, self.partner, self.request(self.receiver.url)
        )
        secret = subscribed.secret
        self.assertGreaterEqual(len(secret), 40)
        ping = self.receiver.requests[0]
        self.assertEqual(json.loads(ping.body)["type"], "ping")
        self.assertTrue(
            channels.verify_signature(secret, ping.headers["Beacon-Signature"], ping.body)
        )
        with self.captureOnCommitCallbacks(execute=True):
            services.publish_event(
                self.community,
                Topic.INCIDENT,
                key="incident:w1",
                title="Burglary",
                lat=HOME[0],
                lon=HOME[1],
                offence_group="burglary",
            )
        self.assertEqual(len(self.receiver.requests), 2)
        delivery = self.receiver.requests[1]
        header = delivery.headers["Beacon-Signature"]
        self.assertRegex(header, r"^t=\d+,v1=[0-9a-f]{64}$")
        timestamp = int(header.split(",")[0][2:])
        expected = channels.sign(secret, timestamp, delivery.body)
        self.assertEqual(header.split("v1=")[1], expected)
        self.assertTrue(channels.verify_signature(secret, header, delivery.body))
        self.assertFalse(channels.verify_signature("wrong", header, delivery.body))
        self.assertFalse(channels.verify_signature(secret, header, delivery.body + b" "))
        payload = json.loads(delivery.body)
        message = OutboxMessage.objects.get()
        self.assertEqual(delivery.headers["Beacon-Message-Id"], str(message.message_id))
        self.assertEqual(payload["id"], str(message.message_id))
        self.assertEqual(payload["event"]["offence_group"], "burglary")
        self.assertEqual(message.status, Status.DELIVERED)

    def test_loopback_and_private_addresses_are_refused_by_default(self) -> None:
        for url in (
            self.receiver.url,
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://224.0.0.1/hook",
            "http://0.0.0.0/hook",
        ):
            with self.subTest(url=url), self.assertRaises(services.AlertError) as caught:
                services.subscribe(self.community, self.partner, self.request(url))
            self.assertIn("refused", str(caught.exception))
        self.assertEqual(self.receiver.requests, [])

    def test_bad_urls_get_clear_errors(self) -> None:
        cases = {
            "ftp://example.org/x": "must start with https://",
            "https://user:pw@example.org/": "no user name or password",
            "not a url": "must start with https://",
            "https://no-such-host.invalid/hook": "cannot be found",
        }
        for url, message in cases.items():
            with self.subTest(url=url), self.assertRaises(services.AlertError) as caught:
                services.subscribe(self.community, self.partner, self.request(url))
            self.assertIn(message, str(caught.exception))

    @override_settings(BEACON_WEBHOOK_ALLOW_PRIVATE=True)
    def test_unreachable_webhook_is_refused_with_the_reason(self) -> None:
        url = f"http://127.0.0.1:{free_port()}/hook"
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(self.community, self.partner, self.request(url))
        self.assertIn("test delivery to your webhook failed", str(caught.exception))
        self.assertIn("connection was refused", str(caught.exception))
        self.receiver.status = 500
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(self.community, self.partner, self.request(self.receiver.url))
        self.assertIn("HTTP 500", str(caught.exception))

    def test_dns_rebinding_is_caught_at_delivery(self) -> None:
        with override_settings(BEACON_WEBHOOK_ALLOW_PRIVATE=True):
            services.subscribe(self.community, self.partner, self.request(self.receiver.url))
        real = socket.getaddrinfo

        def rebound(host: str, *args: Any, **kwargs: Any) -> Any:
            return real("127.0.0.1", *args, **kwargs)

        with (
            mock.patch("beacon.notify.channels.socket.getaddrinfo", side_effect=rebound),
            self.captureOnCommitCallbacks(execute=True),
        ):
            services.publish_event(
                self.community,
                Topic.BROADCAST,
                key="b:1",
                title="Hello",
                lat=HOME[0],
                lon=HOME[1],
            )
        message = OutboxMessage.objects.get()
        self.assertEqual(message.status, Status.FAILED)
        self.assertIn("loopback", message.last_error)
        self.assertEqual(len(self.receiver.requests), 1)  # only the ping at subscription
