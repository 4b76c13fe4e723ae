"""Unit tests: which management alerts the shipped playbooks act on, segment conditions, and the
campaign report's results per indicator group. No servers."""

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from crm_shared.contracts import Envelope
from crm_shared.contracts.events import IndicatorThresholdCrossedV1, ThemeEscalatedV1
from notifications.automation.engine import compile_playbooks
from notifications.campaigns.schemas import CampaignCreate
from notifications.campaigns.service import group_results
from notifications.playbooks import rules
from notifications.playbooks.defaults import DEFAULT_PLAYBOOKS
from notifications.playbooks.schemas import PlaybookDefinition

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
COMPILED = compile_playbooks(DEFAULT_PLAYBOOKS)


def alert(state: str, dimension: str = "tier", segment: str | None = "key") -> Envelope:
    payload = IndicatorThresholdCrossedV1(
        alert_id=uuid.uuid4(),
        indicator="complaint_rate_per_100",
        dimension=dimension,
        segment=segment,
        period_start=T0,
        period_end=T0,
        value=100.0,
        threshold=60.0,
        direction="above",
        state=state,
        crossed_at=T0,
    )
    subject = f"indicator:complaint_rate_per_100:{dimension}:{segment or 'all'}"
    return Envelope(
        type="crm.indicator.threshold_crossed.v1",
        source="t",
        subject=subject,
        correlationid="c",
        data=payload.model_dump(mode="json"),
    )


def matched(event: Envelope) -> list[str]:
    facts = rules.facts_of(event)
    return [p.key for p in COMPILED.get(event.type, []) if p.matches(facts)]


def test_a_crossing_reaches_the_service_manager_and_the_manager_and_a_recovery_opens_nothing() -> None:
    assert matched(alert("crossed")) == ["indicator_alert"]
    assert matched(alert("recovered")) == []
    [playbook] = [p for p in COMPILED["crm.indicator.threshold_crossed.v1"] if p.key == "indicator_alert"]
    task, mail = playbook.actions
    assert (task.params["assign_to"], task.params["priority"]) == ("role:service_manager", "high")
    assert (mail.kind, mail.params["to"]) == ("notify_staff", "manager")
    title = rules.render(task.params["title"], rules.facts_of(alert("crossed")))
    assert title.startswith("Indicator alert: complaint_rate_per_100 of tier key is 100 (above the threshold 60)")


def test_a_recurring_theme_goes_to_management() -> None:
    payload = ThemeEscalatedV1(
        category="service.commercial_dispute",
        product=None,
        customers=3,
        complaints=4,
        previous_customers=1,
        period_start=T0,
        period_end=T0,
        escalated_at=T0,
    )
    event = Envelope(
        type="crm.feedback.theme_escalated.v1",
        source="t",
        subject="theme:x",
        correlationid="c",
        data=payload.model_dump(mode="json"),
    )
    assert matched(event) == ["recurring_theme"]


def test_segment_and_indicator_conditions_select_the_alerts_a_playbook_wants() -> None:
    definition = PlaybookDefinition.model_validate(
        {
            "trigger": {
                "event": "crm.indicator.threshold_crossed.v1",
                "conditions": [
                    {"on": "indicator", "any_of": ["complaint_rate_per_100"]},
                    {"on": "segment", "dimension": "tier", "any_of": ["key", "gold"]},
                    {"on": "alert", "state": "crossed"},
                ],
            },
            "actions": [
                {"kind": "create_task", "task_type": "x", "title": "{indicator} {segment}", "due": {"hours": 1}}
            ],
        }
    )
    [compiled] = compile_playbooks({"mine": definition})["crm.indicator.threshold_crossed.v1"]
    assert compiled.matches(rules.facts_of(alert("crossed")))
    assert not compiled.matches(rules.facts_of(alert("crossed", "region", "EMEA")))
    assert not compiled.matches(rules.facts_of(alert("crossed", "all", None)))
    with pytest.raises(ValidationError, match="has no alert"):
        PlaybookDefinition.model_validate(
            {
                "trigger": {"event": "crm.feedback.received.v1", "conditions": [{"on": "alert", "state": "crossed"}]},
                "actions": [{"kind": "create_task", "task_type": "x", "title": "t", "due": {"hours": 1}}],
            }
        )


def test_results_roll_up_by_indicator_group_then_sub_indicator() -> None:
    stats = [
        ("product.quality", "csat", 2, 4.5, 0, 0),
        ("product.reliability", "csat", 2, 2.5, 0, 0),
        ("service.delivery", "ces", 1, 6.0, 0, 0),
        (None, "nps", 4, 7.0, 2, 1),
    ]
    groups = group_results(stats)
    assert list(groups) == ["product", "service", "overall"]
    assert groups["product"].answers == 4
    assert groups["product"].metrics["csat"].average == 3.5
    assert groups["product"].categories["product.reliability"]["csat"].average == 2.5
    assert groups["overall"].metrics["nps"].nps == 25.0  # (2 - 1) / 4


def test_a_survey_needs_questions_with_unique_keys_and_other_kinds_take_none() -> None:
    question = {"key": "q1", "text": "?", "metric": "csat"}
    with pytest.raises(ValidationError, match="unique"):
        CampaignCreate.model_validate({"name": "x", "kind": "survey", "questionnaire": [question, question]})
    with pytest.raises(ValidationError, match="only a survey"):
        CampaignCreate.model_validate({"name": "x", "kind": "newsletter", "questionnaire": [question]})
    assert CampaignCreate.model_validate({"name": "x", "kind": "newsletter", "text": "Hello"}).segment.tier is None
