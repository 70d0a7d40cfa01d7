from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from beacon.core.audit import record_event, verify_chain
from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase


class AuditChainTests(BeaconTestCase):
    def test_chain_verifies_and_the_command_says_so(self) -> None:
        for i in range(5):
            record_event(action="test", object_type="thing", object_id=i, actor=self.officer)
        report = verify_chain()
        assert report.ok and report.rows_checked == AuditEvent.objects.count()
        out = StringIO()
        call_command("audit", "verify", stdout=out)
        assert "intact" in out.getvalue()

    def test_rows_are_append_only(self) -> None:
        event = record_event(action="test")
        event.outcome = "changed"
        with pytest.raises(ValueError, match="append-only"):
            event.save()
        with pytest.raises(ValueError, match="append-only"):
            event.delete()

    def test_tampered_content_is_found_and_named(self) -> None:
        events = [record_event(action="test", object_id=i) for i in range(4)]
        # Bypass the model's guard, as someone editing the database directly would.
        AuditEvent.objects.filter(pk=events[2].pk).update(outcome="failure")
        report = verify_chain()
        assert report.first_broken_id == events[2].pk
        assert "content" in report.reason
        with pytest.raises(CommandError, match=f"row id {events[2].pk}"):
            call_command("audit", "verify")

    def test_deleted_row_breaks_the_link(self) -> None:
        events = [record_event(action="test", object_id=i) for i in range(4)]
        AuditEvent.objects.filter(pk=events[1].pk)._raw_delete(AuditEvent.objects.db)
        report = verify_chain()
        assert report.first_broken_id == events[2].pk
        assert "link" in report.reason

    def test_truncated_tail_is_found(self) -> None:
        events = [record_event(action="test", object_id=i) for i in range(3)]
        AuditEvent.objects.filter(pk=events[-1].pk)._raw_delete(AuditEvent.objects.db)
        report = verify_chain()
        assert not report.ok and "removed" in report.reason

    def test_request_id_is_recorded(self) -> None:
        response = self.client.get("/accounts/login/")
        request_id = response["X-Request-ID"]
        assert len(request_id) == 32
        self.client.post("/accounts/login/", {"username": "nobody@x.test", "password": "bad"})
        failure = AuditEvent.objects.filter(action="login", outcome="failure").last()
        assert failure is not None and failure.request_id and failure.actor_label == "nobody@x.test"
        assert "bad" not in str(failure.detail)
