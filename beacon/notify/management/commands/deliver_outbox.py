"""``beacon deliver-outbox``: the outbox relay, a loop that delivers alerts.

Run it next to ``beacon worker`` in production: it also picks up messages whose
worker died mid-batch once their lease expires, and assembles digests when a day or
week ends. ``--once`` delivers what is due and exits.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beacon.notify import digests, outbox


class Command(BaseCommand):
    help = "Deliver queued alerts (email, SMS, webhooks) from the outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Deliver what is due, then exit.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds between polls when idle."
        )
        parser.add_argument("--batch", type=int, default=None, help="Messages per claim.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            digests.build_digests()
            stats = outbox.deliver_due(batch=options["batch"])
            if stats.claimed:
                self.stdout.write(
                    f"delivered {stats.delivered}, to retry {stats.retried}, failed {stats.failed}"
                )
            if options["once"]:
                return
            if not stats.claimed:
                time.sleep(options["interval"])
