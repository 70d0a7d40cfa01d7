"""Set-up for the crash test, run in its own process against a file database.

``python -m beacon.notify.tests.crash_helper N`` creates just the tables the outbox
relay touches (a full migrate of every app takes far longer than the test itself) and
queues N email messages.
"""

from __future__ import annotations

import os
import sys


def main(count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()
    from django.db import connection

    from beacon.core.models import Area, Community, Organization, User
    from beacon.notify.models import (
        AlertEvent,
        Cover,
        CoverCell,
        DigestItem,
        OutboxMessage,
        Subscription,
    )

    with connection.schema_editor() as editor:
        for model in (
            Organization,
            Community,
            User,
            Area,
            Cover,
            CoverCell,
            Subscription,
            AlertEvent,
            OutboxMessage,
            DigestItem,
        ):
            editor.create_model(model)
    organization = Organization.objects.create(name="Crash", slug="crash")
    community = Community.objects.create(organization=organization, name="Crash", slug="crash")
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            community=community,
            channel="email",
            target=f"person{i}@example.org",
            dedupe_key=f"crash-{i}",
            subject=f"Alert {i}",
            body="Something happened near you.",
        )
        for i in range(count)
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
