from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from beacon.core.models import AuditEvent, Community
from beacon.core.testing import BeaconTestCase
from beacon.incidents.importer import (
    FormatError,
    ImportAbortedError,
    ImportOptions,
    import_incidents,
)
from beacon.incidents.models import Incident, IncidentImport, LocationStatus

VANCOUVER = Path("vancouver_2020") / "crimedata_csv_AllNeighbourhoods_2020.csv"
CHICAGO = Path("chicago_southside_2016") / "chicago_southside_2016_sample.csv"
HEADER = "id,occurred_at,category,lat,lon,block\n"
GOOD = (
    "a1,2024-03-01T22:15:00,Theft from Vehicle,49.2701,-123.1201,10XX MAIN ST\n"
    "a2,2024-03-02T08:00:00,Burglary,49.2702,-123.1202,11XX MAIN ST\n"
    "a3,2024-03-03T09:00:00,Mischief,,,\n"
)


class ImporterTests(BeaconTestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp())

    def file(self, text: str, name: str = "in.csv") -> Path:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return path

    def run_import(self, text: str, **options: object) -> object:
        return import_incidents(
            self.community,
            self.file(text),
            ImportOptions(fmt="beacon", **options),  # type: ignore[arg-type]
            actor=self.analyst,
            publish=False,
        )

    def test_import_then_reimport_changes_nothing_then_updates(self) -> None:
        first = self.run_import(HEADER + GOOD)
        assert (first.imported, first.mapped, first.unmapped) == (3, 2, 1)  # type: ignore[attr-defined]
        incident = Incident.objects.get(external_id="a1")
        assert incident.offence == "theft_from_vehicle" and incident.offence_group == "vehicle"
        assert incident.block_address == "10XX MAIN ST"
        assert incident.neighbourhood is not None and incident.neighbourhood.name == "Northside"
        assert incident.beat is not None
        assert Incident.objects.get(external_id="a3").location_status == LocationStatus.MISSING
        again = self.run_import(HEADER + GOOD)
        assert (again.imported, again.updated, again.unchanged) == (0, 0, 3)  # type: ignore[attr-defined]
        changed = self.run_import(HEADER + GOOD.replace("Mischief", "Robbery"))
        assert (changed.updated, changed.unchanged) == (1, 2)  # type: ignore[attr-defined]
        assert Incident.objects.get(external_id="a3").offence == "robbery"
        assert Incident.objects.count() == 3

    def test_bad_rows_are_skipped_and_reported_with_line_numbers(self) -> None:
        text = (
            HEADER
            + GOOD
            + "b1,not-a-date,Burglary,49.27,-123.12,\n"
            + "b2,2024-03-01T10:00,Jaywalking,49.27,-123.12,\n"
            + "b3,2024-03-01T10:00,Burglary,95,-123.12,\n"
            + "b4,2024-03-01T10:00,Burglary,41.8,-87.6,\n"
        )
        summary = self.run_import(text)
        assert summary.imported == 3  # type: ignore[attr-defined]
        lines = {line: reason for line, reason in summary.rejections}  # type: ignore[attr-defined]
        assert set(lines) == {5, 6, 7, 8}
        assert "date/time" in lines[5]
        assert "unknown offence" in lines[6]
        assert "WGS84" in lines[7]
        assert "outside the community" in lines[8]
        record = IncidentImport.objects.get(pk=summary.import_id)  # type: ignore[attr-defined]
        assert record.status == "succeeded" and record.rejected == 4
        assert [5, lines[5]] in record.rejections

    def test_abort_leaves_the_database_as_it_was(self) -> None:
        self.run_import(HEADER + GOOD)
        before = list(Incident.objects.order_by("pk").values())
        text = (
            HEADER
            + GOOD.replace("Mischief", "Robbery")
            + "c1,2024-03-04T10:00,Burglary,49.27,-123.12,\nc2,bad,Burglary,49.27,-123.12,\n"
        )
        with pytest.raises(ImportAbortedError) as caught:
            self.run_import(text, on_error="abort")
        assert caught.value.summary.rejections == [
            (6, "cannot read occurred_at 'bad' as a date/time")
        ]
        assert list(Incident.objects.order_by("pk").values()) == before
        record = IncidentImport.objects.order_by("-pk").first()
        assert record is not None and record.status == "aborted"
        event = AuditEvent.objects.filter(action="import").order_by("-pk").first()
        assert event is not None and event.outcome == "aborted" and event.detail["rejected"] == 1

    def test_one_audit_row_per_import_with_counts(self) -> None:
        count = AuditEvent.objects.filter(action="import").count()
        self.run_import(HEADER + GOOD)
        events = AuditEvent.objects.filter(action="import").order_by("pk")
        assert events.count() == count + 1
        last = events.last()
        assert last is not None and last.actor == self.analyst
        assert last.detail["imported"] == 3 and last.community_id == self.community.pk

    def test_unreadable_file_fails_clearly(self) -> None:
        with pytest.raises(FormatError, match="no 'occurred_at'"):
            self.run_import("id,when,category,lat,lon\n")

    def test_command_prints_summary_and_rejections(self) -> None:
        path = self.file(HEADER + GOOD + "b1,nope,Burglary,49.27,-123.12,\n")
        out = io.StringIO()
        call_command(
            "import_incidents",
            str(path),
            community="north",
            fmt="beacon",
            stdout=out,
            no_publish=True,
        )
        text = out.getvalue()
        assert "imported" in text and "nope" in text and "5" in text
        with pytest.raises(CommandError, match="not changed"):
            call_command(
                "import_incidents",
                str(path),
                community="north",
                fmt="beacon",
                on_error="abort",
                stdout=io.StringIO(),
            )

    def test_generic_format_via_command(self) -> None:
        path = self.file("Ref,When,Offence,Lat,Lng\nz9,2024-05-01 10:00,Robbery,49.27,-123.12\n")
        call_command(
            "import_incidents",
            str(path),
            community="north",
            fmt="generic",
            map=["id=Ref", "time=When", "category=Offence", "lat=Lat", "lon=Lng"],
            stdout=io.StringIO(),
            no_publish=True,
        )
        assert Incident.objects.get(external_id="z9").offence == "robbery"


def data_file(relative: Path) -> Path:
    path = Path(settings.BEACON_DATA_DIR) / relative
    if not path.exists():
        pytest.skip(f"{path} not found: set BEACON_DATA_DIR to the shared crime data folder")
    return path


@pytest.mark.data
class RealDataTests(BeaconTestCase):
    def test_vancouver_2020_counts_and_idempotent_reimport(self) -> None:
        path = data_file(VANCOUVER)
        city = Community.objects.create(
            organization=self.community.organization,
            name="Vancouver",
            slug="vancouver",
            timezone="America/Vancouver",
        )
        options = ImportOptions(fmt="vancouver", batch_size=20_000)
        first = import_incidents(city, path, options, publish=False)
        assert (first.imported, first.mapped, first.unmapped, first.rejected) == (
            37_512,
            33_761,
            3_751,
            0,
        )
        assert Incident.objects.filter(community=city).count() == 37_512
        assert Incident.objects.filter(community=city, lat__isnull=False).count() == 33_761
        assert (
            Incident.objects.filter(community=city, location_status="suppressed").count() == 3_750
        )
        again = import_incidents(city, path, options, publish=False)
        assert (again.imported, again.updated, again.unchanged) == (0, 0, 37_512)
        assert Incident.objects.filter(community=city).count() == 37_512

    def test_chicago_portal_sample(self) -> None:
        path = data_file(CHICAGO)
        city = Community.objects.create(
            organization=self.community.organization,
            name="Chicago",
            slug="chicago",
            timezone="America/Chicago",
        )
        summary = import_incidents(city, path, ImportOptions(fmt="chicago"), publish=False)
        assert (summary.imported, summary.rejected) == (1000, 0)
        sample = Incident.objects.get(community=city, external_id="HZ242280")
        assert sample.offence == "assault" and sample.block_address == "073XX S COTTAGE GROVE AVE"
        assert sample.local_hour == 13
        assert Incident.objects.filter(community=city, sensitive=True).exists()


def test_the_importer_writes_every_incident_column() -> None:
    from beacon.incidents.importer import INSERT_COLUMNS
    from beacon.incidents.models import incident_field_names

    assert sorted(INSERT_COLUMNS) == sorted(incident_field_names())
