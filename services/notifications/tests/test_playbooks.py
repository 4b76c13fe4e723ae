"""Unit tests of the playbook rules: condition matching, template rendering, validation,
the shipped defaults (which tasks, due when) and round-robin assignment. No servers."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from crm_shared.contracts import Envelope
from crm_shared.contracts.events import (
    CustomerRef,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    ScoreChangedV1,
    ScoreChangedV2,
    ScoreSet,
    ScoreValues,
    SurveyAnswer,
)
from crm_shared.contracts.vocabulary import Band, CaseStatus, Channel, FeedbackType, Severity, SurveyMetric, Tier
from notifications.automation.engine import compile_playbooks
from notifications.playbooks import rules
from notifications.playbooks.defaults import DEFAULT_PLAYBOOKS
from notifications.playbooks.schemas import PlaybookDefinition
from notifications.tasks import recovery
from notifications.teams.assignment import FALLBACK_QUEUE, assignee_for, escalation_target, round_robin

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
COMPILED = compile_playbooks(DEFAULT_PLAYBOOKS)


def envelope(event_type: str, payload) -> Envelope:
    return Envelope(
        type=event_type,
        source="test",
        subject=str(payload.customer_id),
        correlationid="c",
        data=payload.model_dump(mode="json"),
    )


def feedback(
    severity: Severity = Severity.high,
    tier: Tier = Tier.silver,
    type: FeedbackType = FeedbackType.complaint,
    category: str | None = "service.delivery",
    survey: SurveyAnswer | None = None,
) -> Envelope:
    return envelope(
        "crm.feedback.received.v1",
        FeedbackReceivedV1(
            feedback_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            type=type,
            category=category,
            severity=severity,
            channel=Channel.phone,
            received_at=T0,
            customer=CustomerRef(tier=tier, owner="alice"),
            survey=survey,
        ),
    )


def matching(event: Envelope) -> list[str]:
    facts = rules.facts_of(event)
    return [p.key for p in COMPILED.get(rules.canonical_type(event.type), []) if p.matches(facts)]


def test_every_complaint_gets_service_recovery_and_a_key_account_also_review_and_a_management_visit() -> None:
    assert matching(feedback(tier=Tier.gold)) == ["service_recovery"]
    assert matching(feedback(tier=Tier.key)) == ["key_account_complaint", "service_recovery"]
    [key_account] = [p for p in COMPILED["crm.feedback.received.v1"] if p.key == "key_account_complaint"]
    assert [a.key for a in key_account.actions] == ["key_account_complaint:0", "key_account_complaint:1"]
    assert [a.params["task_type"] for a in key_account.actions] == ["key_account_review", "management_visit"]
    assert matching(feedback(tier=Tier.key, type=FeedbackType.praise)) == []


@pytest.mark.parametrize(
    ("severity", "tier", "hours"),
    [
        (Severity.critical, Tier.bronze, 4),
        (Severity.critical, Tier.key, 2),
        (Severity.high, Tier.silver, 24),
        (Severity.high, Tier.gold, 18),
        (Severity.medium, Tier.key, 36),
        (Severity.low, Tier.bronze, 120),
    ],
)
def test_recovery_is_due_sooner_for_severe_complaints_and_important_customers(
    severity: Severity, tier: Tier, hours: float
) -> None:
    assert recovery.due_by_severity_and_tier(T0, severity.value, tier.value) == T0 + timedelta(hours=hours)


def test_nps_detractors_get_a_call_back_and_promoters_do_not() -> None:
    def survey(score: int, metric: SurveyMetric = SurveyMetric.nps) -> Envelope:
        return feedback(type=FeedbackType.survey_response, survey=SurveyAnswer(metric=metric, score=score))

    assert matching(survey(0)) == matching(survey(6)) == ["nps_detractor"]
    assert matching(survey(7)) == []
    assert matching(survey(2, SurveyMetric.csat)) == []  # a CSAT 2 is no NPS answer


def score_change(before: Band | None, after: Band, version: int = 2, rescore_run_id=None) -> Envelope:
    common = {
        "customer_id": uuid.uuid4(),
        "model_version": "v",
        "band_from": before,
        "band_to": after,
        "cause_event_id": uuid.uuid4(),
        "cause_event_type": "crm.feedback.received.v1",
        "computed_at": T0,
    }
    if version == 1:
        values = ScoreValues(satisfaction=40, health=40, band=after)
        return envelope("crm.score.changed.v1", ScoreChangedV1(previous=None, current=values, **common))
    scores = ScoreSet(satisfaction=40, loyalty=50, value=50, churn_risk=60, health=40, band=after)
    return envelope(
        "crm.score.changed.v2",
        ScoreChangedV2(previous=None, current=scores, changed=["health"], rescore_run_id=rescore_run_id, **common),
    )


@pytest.mark.parametrize("version", [1, 2])
def test_a_drop_into_at_risk_or_critical_asks_for_a_retention_plan_from_either_contract_version(version) -> None:
    assert matching(score_change(Band.watch, Band.at_risk, version)) == ["band_drop_at_risk"]
    assert matching(score_change(Band.at_risk, Band.critical, version)) == ["band_drop_critical"]
    assert matching(score_change(Band.healthy, Band.watch, version)) == []
    assert matching(score_change(Band.critical, Band.at_risk, version)) == []  # a recovery
    assert matching(score_change(None, Band.at_risk, version)) == []  # a first score is no drop


def test_a_band_drop_from_a_rescore_run_opens_no_retention_plan_unless_the_playbook_asks() -> None:
    from_rescore = score_change(Band.watch, Band.at_risk, rescore_run_id=uuid.uuid4())
    assert matching(from_rescore) == []
    definition = DEFAULT_PLAYBOOKS["band_drop_at_risk"].model_dump(mode="json")
    definition["trigger"]["conditions"][0]["include_rescores"] = True
    compiled = compile_playbooks({"band_drop_at_risk": PlaybookDefinition.model_validate(definition)})
    facts = rules.facts_of(from_rescore)
    assert [p.key for p in compiled["crm.score.changed.v2"] if p.matches(facts)] == ["band_drop_at_risk"]


def test_a_resolved_complaint_asks_for_a_satisfaction_follow_up_titled_from_the_event() -> None:
    event = envelope(
        "crm.feedback.status_changed.v1",
        FeedbackStatusChangedV1(
            feedback_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            previous=CaseStatus.in_progress,
            current=CaseStatus.resolved,
            changed_by="alice",
            changed_at=T0,
            severity=Severity.high,
            category="service.delivery",
            customer=CustomerRef(tier=Tier.gold, owner="alice"),
        ),
    )
    assert matching(event) == ["satisfaction_follow_up"]
    [follow_up] = COMPILED["crm.feedback.status_changed.v1"]
    title = rules.render(follow_up.actions[0].params["title"], rules.facts_of(event))
    assert "resolved high complaint (service.delivery)" in title


def custom(conditions: list[dict], title: str = "Look at it", event: str = "crm.feedback.received.v1") -> dict:
    return {
        "trigger": {"event": event, "conditions": conditions},
        "actions": [{"kind": "create_task", "task_type": "check", "title": title, "due": {"hours": 1}}],
    }


def test_category_conditions_match_by_prefix_and_all_conditions_must_hold() -> None:
    definition = PlaybookDefinition.model_validate(
        custom([{"on": "category", "prefix": "service."}, {"on": "severity", "any_of": ["high", "critical"]}])
    )
    assert definition.trigger.matches(rules.facts_of(feedback(Severity.high, category="service.delivery")))
    assert not definition.trigger.matches(rules.facts_of(feedback(Severity.low, category="service.delivery")))
    assert not definition.trigger.matches(rules.facts_of(feedback(Severity.high, category="product.quality")))
    assert not definition.trigger.matches(rules.facts_of(feedback(Severity.high, category=None)))


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (custom([{"on": "band", "to": ["critical"]}]), "crm.feedback.received.v1 has no band"),
        (custom([{"on": "nps", "min": 7, "max": 3}]), "min must not exceed max"),
        (custom([{"on": "band"}], event="crm.score.changed.v2"), "needs `to`, `dropped` or both"),
        (custom([{"on": "mood", "any_of": ["sad"]}]), "does not match any of the expected tags"),
        (custom([], title="About {band_to}"), "{band_to} is not a fact of crm.feedback.received.v1"),
        (custom([], title="About {severity!r}"), "must be a plain name"),
        (custom([], title="About {"), "Single '{'"),
        (custom([], event="crm.task.created.v1"), "crm.feedback.received.v1"),
        (custom([]) | {"actions": [{"kind": "launch_rocket"}]}, "does not match any of the expected tags"),
        (custom([]) | {"actions": [{"kind": "call_webhook", "url": "not a url"}]}, "URL"),
        (
            custom([]) | {"actions": [{"kind": "notify_staff", "channel": "email", "template": "t", "to": "boss"}]},
            "String should match pattern",
        ),
    ],
)
def test_bad_rules_are_refused_with_the_reason(body: dict, complaint: str) -> None:
    with pytest.raises(ValidationError) as error:
        PlaybookDefinition.model_validate(body)
    assert complaint in str(error.value)


def test_all_four_action_kinds_are_accepted_and_dumped_for_their_executors() -> None:
    actions = [
        {"kind": "send_message", "channel": "email", "template": "sorry"},
        {"kind": "notify_staff", "channel": "sms", "template": "heads_up", "to": "team_lead"},
        {"kind": "call_webhook", "url": "https://hooks.example/crm", "template": None},
        {"kind": "create_task", "task_type": "t", "title": "x", "due": {"by_severity_and_tier": True}},
    ]
    definition = PlaybookDefinition.model_validate(custom([]) | {"actions": actions})
    [compiled] = compile_playbooks({"p": definition})["crm.feedback.received.v1"]
    assert [a.kind for a in compiled.actions] == ["send_message", "notify_staff", "call_webhook", "create_task"]
    assert compiled.actions[2].params["url"] == "https://hooks.example/crm"
    assert compiled.actions[3].params == {
        "kind": "create_task",
        "task_type": "t",
        "title": "x",
        "priority": "normal",
        "due": {"by_severity_and_tier": True},
        "assign_to": "owner",
    }


def test_disabled_playbooks_are_not_compiled() -> None:
    definition = PlaybookDefinition.model_validate(custom([]) | {"enabled": False})
    assert compile_playbooks({"p": definition}) == {}


def test_the_customer_projection_is_read_before_matching_only_for_a_tier_condition() -> None:
    """A score change no playbook matches costs no projection read unless a condition needs the tier."""
    on_tier = PlaybookDefinition.model_validate(
        custom([{"on": "tier", "any_of": ["key"]}], event="crm.score.changed.v2")
    )
    on_band = PlaybookDefinition.model_validate(
        custom([{"on": "band", "to": ["critical"]}], event="crm.score.changed.v2")
    )
    compiled = compile_playbooks({"tier": on_tier, "band": on_band})["crm.score.changed.v2"]
    assert {p.key: p.needs_customer for p in compiled} == {"band": False, "tier": True}


def test_templates_fill_in_facts_and_mark_what_the_event_lacks() -> None:
    facts = rules.facts_of(feedback(Severity.critical, category=None))
    assert rules.render("Call back about a {severity} complaint ({category})", facts) == (
        "Call back about a critical complaint (uncategorised)"
    )
    assert rules.render("NPS {nps}", facts) == "NPS -"
    assert rules.render("Plain text, no placeholders", facts) == "Plain text, no placeholders"


def test_round_robin_takes_members_in_turn_and_wraps() -> None:
    members = ["ann", "ben", "cat"]
    assert [round_robin(members, turn) for turn in range(5)] == ["ann", "ben", "cat", "ann", "ben"]
    assert round_robin([], 3) is None


def test_assignment_falls_back_to_the_queue_without_owner_or_team_member() -> None:
    assert assignee_for("owner", owner="alice", team_member=None) == "alice"
    assert assignee_for("owner", owner=None, team_member=None) == FALLBACK_QUEUE
    assert assignee_for("team:care", owner="alice", team_member="ben") == "ben"
    assert assignee_for("team:care", owner="alice", team_member=None) == FALLBACK_QUEUE
    assert assignee_for("user:zoe", owner="alice", team_member=None) == "zoe"


def test_escalation_goes_to_the_lead_then_the_manager_else_the_fallback() -> None:
    assert escalation_target(1, lead="lee", manager="max", fallback="desk-lead") == "lee"
    assert escalation_target(2, lead="lee", manager="max", fallback="desk-lead") == "max"
    assert escalation_target(1, lead=None, manager="max", fallback="desk-lead") == "desk-lead"


def test_an_sla_breach_and_a_churn_have_their_default_playbooks() -> None:
    from crm_shared.contracts.events import LifecycleChangedV1, SlaBreachedV1
    from crm_shared.contracts.vocabulary import LifecycleStage

    breach = envelope(
        "crm.feedback.sla_breached.v1",
        SlaBreachedV1(
            feedback_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            clock="first_response",
            due_at=T0,
            breached_at=T0,
            severity=Severity.high,
            customer=CustomerRef(tier=Tier.gold, owner="alice"),
        ),
    )
    assert matching(breach) == ["sla_breach_escalation"]
    [sla] = COMPILED["crm.feedback.sla_breached.v1"]
    assert rules.render(sla.actions[0].params["title"], rules.facts_of(breach)).startswith(
        "SLA breached (first_response) on a high complaint"
    )

    def lifecycle(to: LifecycleStage) -> Envelope:
        return envelope(
            "crm.contact.lifecycle_changed.v1",
            LifecycleChangedV1(customer_id=uuid.uuid4(), previous=LifecycleStage.customer, current=to, changed_at=T0),
        )

    assert matching(lifecycle(LifecycleStage.churned)) == ["win_back"]
    assert matching(lifecycle(LifecycleStage.at_risk)) == []


def received_event(kind: str, category: str | None = "product.features") -> Envelope:
    return envelope(
        "crm.feedback.received.v1",
        FeedbackReceivedV1(
            feedback_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            type=FeedbackType(kind),
            category=category,
            severity=Severity.low,
            channel=Channel.web,
            received_at=T0,
            customer=CustomerRef(tier=Tier.silver, owner="alice"),
        ),
    )


@pytest.mark.parametrize(
    ("kind", "playbook"),
    [
        ("inquiry", "answer_inquiry"),
        ("technical_support", "technical_support_visit"),
        ("suggestion", "suggestion_to_backlog"),
    ],
)
def test_every_request_type_has_its_default_playbook(kind: str, playbook: str) -> None:
    assert matching(received_event(kind)) == [playbook]


def test_a_resolved_technical_support_case_asks_for_no_complaint_follow_up_and_its_breach_names_its_type() -> None:
    resolved = envelope(
        "crm.feedback.status_changed.v1",
        FeedbackStatusChangedV1(
            feedback_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            type=FeedbackType.technical_support,
            previous=CaseStatus.in_progress,
            current=CaseStatus.resolved,
            changed_by="alice",
            changed_at=T0,
            severity=Severity.low,
            customer=CustomerRef(tier=Tier.gold, owner="alice"),
        ),
    )
    assert matching(resolved) == []
    from crm_shared.contracts.events import SlaBreachedV1

    breach = envelope(
        "crm.feedback.sla_breached.v1",
        SlaBreachedV1(
            feedback_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            type=FeedbackType.inquiry,
            clock="resolution",
            due_at=T0,
            breached_at=T0,
            severity=Severity.low,
            customer=CustomerRef(tier=Tier.gold, owner="alice"),
        ),
    )
    [sla] = COMPILED["crm.feedback.sla_breached.v1"]
    assert rules.render(sla.actions[0].params["title"], rules.facts_of(breach)).startswith(
        "SLA breached (resolution) on a low inquiry"
    )


def test_retention_leaves_poor_credit_and_low_value_customers_alone() -> None:
    from crm_shared.contracts.events import ScoreChangedV2, ScoreSet
    from crm_shared.contracts.vocabulary import CreditStanding

    def drop(value: float, credit: CreditStanding | None) -> Envelope:
        scores = {"satisfaction": 40.0, "loyalty": 10.0, "churn_risk": 50.0, "health": 40.0}
        data = ScoreChangedV2(
            customer_id=uuid.uuid4(),
            model_version="scorecard-1",
            previous=ScoreSet(**scores, value=value, band=Band.watch),
            current=ScoreSet(**scores, value=value, band=Band.at_risk),
            changed=["health", "band"],
            band_from=Band.watch,
            band_to=Band.at_risk,
            cause_event_id=uuid.uuid4(),
            cause_event_type="crm.scoring.daily_run",
            computed_at=T0,
            credit=credit,
        )
        return envelope("crm.score.changed.v2", data)

    assert matching(drop(25.0, CreditStanding.good)) == ["band_drop_at_risk"]
    assert matching(drop(25.0, CreditStanding.poor)) == []  # the bad
    assert matching(drop(4.0, CreditStanding.good)) == []  # the small
