"""Each suggestion rule on hand-made indicators (no database)."""

from __future__ import annotations

from datetime import date

from beacon.evaluation import rules
from beacon.evaluation.indicators import Figure, Indicator, Period


def ctx(*indicators: Indicator, open_areas: set[int] | None = None) -> rules.RuleContext:
    return rules.RuleContext({i.key: i for i in indicators}, open_problem_areas=open_areas or set())


def incidents(rows: list[dict]) -> Indicator:
    return Indicator("incidents", "Incidents", True, detail={"by_area": rows})


def row(area_id: int | None, before: int, after: int, ratio: float, p: float) -> dict:
    return {
        "area_id": area_id,
        "area": f"Area {area_id}",
        "group": "burglary",
        "before": before,
        "after": after,
        "ratio": ratio,
        "p_value": p,
    }


def test_rising_offence_needs_count_ratio_significance_and_no_open_problem() -> None:
    rising = row(1, 10, 30, 3.0, 0.001)
    assert len(rules.rising_offence_without_problem(ctx(incidents([rising])))) == 1
    assert not rules.rising_offence_without_problem(ctx(incidents([rising]), open_areas={1}))
    assert not rules.rising_offence_without_problem(ctx(incidents([row(1, 2, 9, 4.5, 0.01)])))
    assert not rules.rising_offence_without_problem(ctx(incidents([row(1, 40, 45, 1.12, 0.3)])))
    assert not rules.rising_offence_without_problem(ctx(incidents([row(1, 20, 30, 1.5, 0.2)])))
    assert not rules.rising_offence_without_problem(ctx(incidents([row(None, 0, 50, 99, 0)])))
    (s,) = rules.rising_offence_without_problem(ctx(incidents([rising])))
    assert "Area 1" in s.text and "10 → 30" in s.evidence


def test_falling_program_attendance() -> None:
    def programs(before: int, after: int) -> Indicator:
        return Indicator(
            "programs",
            "Programs",
            True,
            detail={
                "programs": [
                    {
                        "program_id": 1,
                        "program": "Lock it",
                        "attendance_before": before,
                        "attendance_after": after,
                    }
                ]
            },
        )

    assert len(rules.falling_program_attendance(ctx(programs(40, 30)))) == 1  # −25 %
    assert not rules.falling_program_attendance(ctx(programs(40, 31)))
    assert not rules.falling_program_attendance(ctx(programs(9, 0)))  # too small to judge
    assert not rules.falling_program_attendance(ctx(Indicator("programs", "Programs", False)))


def test_trust_dropped_needs_size_and_significance() -> None:
    def trust(difference: float, significant: bool) -> Indicator:
        return Indicator(
            "trust",
            "Trust",
            True,
            detail={
                "areas": [
                    {
                        "area_id": 3,
                        "area": "Beat 3",
                        "before": 60.0,
                        "after": 60.0 + difference,
                        "difference": difference,
                        "significant": significant,
                    }
                ]
            },
        )

    assert len(rules.trust_dropped(ctx(trust(-6, True)))) == 1
    assert not rules.trust_dropped(ctx(trust(-6, False)))
    assert not rules.trust_dropped(ctx(trust(-2, True)))
    assert not rules.trust_dropped(ctx(trust(+8, True)))


def test_slower_report_response() -> None:
    def reports(before: float, after: float) -> Indicator:
        return Indicator(
            "reports",
            "Reports",
            True,
            figures=[Figure("median_first_response_hours", "Median", after, before)],
        )

    assert len(rules.slower_report_response(ctx(reports(8, 12)))) == 1
    assert not rules.slower_report_response(ctx(reports(8, 9)))  # under 2 hours slower
    assert not rules.slower_report_response(ctx(reports(20, 23)))  # under 25 % slower


def test_overdue_actions() -> None:
    def meetings(overdue: int) -> Indicator:
        return Indicator(
            "meetings", "Meetings", True, figures=[Figure("actions_overdue", "Overdue", overdue, 0)]
        )

    assert len(rules.overdue_actions(ctx(meetings(2)))) == 1
    assert not rules.overdue_actions(ctx(meetings(0)))


def test_every_rule_is_described() -> None:
    names = [name for name, _doc in rules.describe_rules()]
    assert names == [r.__name__ for r in rules.RULES]
    assert rules.suggest(ctx()) == []


def test_periods() -> None:
    q3 = Period.quarter(2024, 3)
    assert (q3.start, q3.end, q3.days) == (date(2024, 7, 1), date(2024, 10, 1), 92)
    assert q3.previous() == Period.quarter(2024, 2)
    assert Period.quarter(2024, 1).previous().label == "2023 Q4"
    running = Period.parse("2024-q4", today=date(2024, 11, 9))
    assert running.end == date(2024, 11, 10) and "to date" in running.label
    assert running.previous().start == date(2024, 7, 1)
    assert running.previous().days == running.days
    assert running.key == "2024-Q4"
    import pytest

    for bad in ("2024", "2024-Q5", "Q3-2024"):
        with pytest.raises(ValueError):
            Period.parse(bad, today=date(2024, 1, 1))
    figure = Figure("x", "X", 12, 10)
    assert figure.change == 2 and figure.percent_change == 20
    assert figure.shown_change == "+2 (+20%)"
    assert Figure("y", "Y", 5, 10, better="down").improved is True
