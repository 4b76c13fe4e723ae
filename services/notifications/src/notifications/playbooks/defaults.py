"""The playbooks the service ships with (docs/domain.md#playbooks), in force until changed through the API.

They are version 0 of their keys: `PUT /v1/playbooks/<key>` stores version 1 and replaces the
default, `DELETE` switches it off; nothing needs seeding, and a new default reaches every
installation with the code.
"""

from __future__ import annotations

from notifications.playbooks.schemas import PlaybookDefinition

_COMPLAINT = {"on": "type", "any_of": ["complaint"]}


def _task(task_type: str, title: str, priority: str, due: dict, assign_to: str = "owner") -> dict:
    return {
        "kind": "create_task",
        "task_type": task_type,
        "title": title,
        "priority": priority,
        "due": due,
        "assign_to": assign_to,
    }


_DEFAULTS = {
    "service_recovery": {
        "description": "Service recovery: every complaint gets a call back, due by severity and tier.",
        "trigger": {"event": "crm.feedback.received.v1", "conditions": [_COMPLAINT]},
        "actions": [
            _task(
                "service_recovery",
                "Call back about a {severity} complaint ({category})",
                "by_severity",
                {"by_severity_and_tier": True},
            )
        ],
    },
    "key_account_complaint": {
        "description": "A key account's complaint involves its account manager, and senior management "
        "visits to hear the customer's views (key accounts get at least yearly senior-management visits).",
        "trigger": {
            "event": "crm.feedback.received.v1",
            "conditions": [_COMPLAINT, {"on": "tier", "any_of": ["key"]}],
        },
        "actions": [
            _task(
                "key_account_review",
                "Key account complaint ({category}): account manager to review and contact",
                "by_severity",
                {"hours": 24},
            ),
            _task(
                "management_visit",
                "Key account complaint ({category}): arrange a senior-management visit to hear the customer's "
                "views on quality, service and staff",
                "normal",
                {"hours": 24 * 14},
            ),
        ],
    },
    "band_drop_at_risk": {
        "description": "Health fell into at_risk: agree a retention plan within three days (not for poor credit "
        "or a value score under 10: keep the big, let go of the small and the bad).",
        "trigger": {
            "event": "crm.score.changed.v2",
            "conditions": [
                {"on": "band", "to": ["at_risk"], "dropped": True},
                {"on": "credit", "none_of": ["poor"]},
                {"on": "value", "min": 10},
            ],
        },
        "actions": [
            _task(
                "retention_plan",
                "Health fell from {band_from} to {band_to}: agree a retention plan",
                "high",
                {"hours": 72},
            )
        ],
    },
    "band_drop_critical": {
        "description": "Health fell into critical: agree a retention plan within a day (not for poor credit "
        "or a value score under 10).",
        "trigger": {
            "event": "crm.score.changed.v2",
            "conditions": [
                {"on": "band", "to": ["critical"], "dropped": True},
                {"on": "credit", "none_of": ["poor"]},
                {"on": "value", "min": 10},
            ],
        },
        "actions": [
            _task(
                "retention_plan",
                "Health fell from {band_from} to {band_to}: agree a retention plan",
                "urgent",
                {"hours": 24},
            )
        ],
    },
    "satisfaction_follow_up": {
        "description": "Closed loop: a resolved complaint (again after a reopen, too) gets a satisfaction "
        "follow-up after the fix had time to show; an unhappy answer reopens it.",
        "trigger": {
            "event": "crm.feedback.status_changed.v1",
            "conditions": [_COMPLAINT, {"on": "status", "to": ["resolved"]}],
        },
        "actions": [
            _task(
                "satisfaction_follow_up",
                "Ask whether the resolved {severity} complaint ({category}) was put right (satisfaction follow-up)",
                "normal",
                {"hours": 48},
            )
        ],
    },
    "nps_detractor": {
        "description": "An NPS detractor (0-6) gets a call back to learn what went wrong.",
        "trigger": {
            "event": "crm.feedback.received.v1",
            "conditions": [{"on": "type", "any_of": ["survey_response"]}, {"on": "nps", "min": 0, "max": 6}],
        },
        "actions": [_task("detractor_call_back", "Call back an NPS detractor (scored {nps})", "high", {"hours": 48})],
    },
    "win_back": {
        "description": "A churned customer gets a win-back campaign (winning back costs less than a new customer); "
        "keep the big, let go of the small and the bad: not for bronze customers or poor credit.",
        "trigger": {
            "event": "crm.contact.lifecycle_changed.v1",
            "conditions": [
                {"on": "lifecycle", "to": ["churned"]},
                {"on": "credit", "none_of": ["poor"]},
                {"on": "tier", "none_of": ["bronze"]},
            ],
        },
        "actions": [
            _task("win_back", "Win-back campaign: contact the churned customer with an offer", "normal", {"hours": 168})
        ],
    },
    "credit_notice": {
        "description": "Credit put on notice (watch or poor): the owner agrees an improvement with the customer "
        "by a deadline; then reinstates (credit good) or phases the customer out (lifecycle churned, no win-back).",
        "trigger": {
            "event": "crm.contact.credit_changed.v1",
            "conditions": [{"on": "credit", "any_of": ["watch", "poor"]}],
        },
        "actions": [
            _task(
                "credit_review",
                "Credit on notice ({credit}): agree an improvement by the due date, then reinstate or phase out",
                "high",
                {"hours": 24 * 30},
            ),
            # The customer hears of it too, where they consented to email (docs/domain.md#credit-management).
            {"kind": "send_message", "channel": "email", "template": "credit_notice"},
        ],
    },
    "indicator_alert": {
        "description": "An indicator crossed its threshold (stricter ones per segment, e.g. key accounts): "
        "the service manager investigates, and management hears of it. The recovery closes the task by itself.",
        "trigger": {"event": "crm.indicator.threshold_crossed.v1", "conditions": [{"on": "alert", "state": "crossed"}]},
        "actions": [
            _task(
                "indicator_alert",
                "Indicator alert: {indicator} of {dimension} {segment} is {value} ({direction} the threshold "
                "{threshold}): find the cause and act",
                "high",
                {"hours": 72},
                assign_to="role:service_manager",
            ),
            {"kind": "notify_staff", "channel": "email", "template": "management_alert", "to": "manager"},
        ],
    },
    "recurring_theme": {
        "description": "A complaint theme recurs across customers and is not shrinking: the most reported "
        "problems go to management, who own the fix.",
        "trigger": {"event": "crm.feedback.theme_escalated.v1"},
        "actions": [
            _task(
                "theme_review",
                "Recurring complaint theme {category} / {product}: {customers} customers (before: "
                "{previous_customers}): management to own the fix",
                "high",
                {"hours": 24 * 7},
                assign_to="role:service_manager",
            ),
            {"kind": "notify_staff", "channel": "email", "template": "management_alert", "to": "manager"},
        ],
    },
    "key_account_programme": {
        "description": "A new key account (by the tier rules or a person) gets a senior-management visit and, "
        "a year on, a review that re-confirms its key status (docs/domain.md#the-key-account-programme).",
        "trigger": {"event": "crm.contact.tier_changed.v1", "conditions": [{"on": "tier", "any_of": ["key"]}]},
        "actions": [
            _task(
                "leadership_visit",
                "New key account: arrange a senior-management visit to hear their views on product quality, "
                "service, sales policy and staff (record it as a visit with findings)",
                "high",
                {"hours": 24 * 30},
            ),
            _task(
                "key_status_review",
                "Yearly key-account review: re-confirm key status and entitlements",
                "normal",
                {"hours": 24 * 365},
            ),
        ],
    },
    "key_account_yearly_visit": {
        "description": "Every key account gets a senior-management visit at least yearly: a visit recorded "
        "with findings schedules the next one and the yearly review.",
        "trigger": {
            "event": "crm.contact.activity_recorded.v1",
            "conditions": [
                {"on": "kind", "any_of": ["visit"], "with_findings": True},
                {"on": "tier", "any_of": ["key"]},
            ],
        },
        "actions": [
            _task(
                "leadership_visit",
                "Next yearly senior-management visit: hear the key account's views on product quality, service, "
                "sales policy and staff",
                "normal",
                {"hours": 24 * 365},
            ),
            _task(
                "key_status_review",
                "Yearly key-account review: re-confirm key status and entitlements",
                "normal",
                {"hours": 24 * 365},
            ),
        ],
    },
    "sla_breach_escalation": {
        "description": "A case (complaint, inquiry, technical support, suggestion) missed its SLA: escalate it "
        "so it is handled now.",
        "trigger": {"event": "crm.feedback.sla_breached.v1"},
        "actions": [
            _task(
                "sla_escalation",
                "SLA breached ({clock}) on a {severity} {type}: escalate and contact the customer",
                "urgent",
                {"hours": 4},
            )
        ],
    },
    # Every request type is a case with its own default playbook (docs/domain.md#every-request-is-a-case).
    "answer_inquiry": {
        "description": "An inquiry is answered: the owner replies within a working day.",
        "trigger": {"event": "crm.feedback.received.v1", "conditions": [{"on": "type", "any_of": ["inquiry"]}]},
        "actions": [_task("answer_inquiry", "Answer the customer's inquiry ({category})", "normal", {"hours": 24})],
    },
    "technical_support_visit": {
        "description": "A technical-support request is scheduled: a technician visit, a remote session or "
        "on-site training for the customer's staff, booked within two days.",
        "trigger": {
            "event": "crm.feedback.received.v1",
            "conditions": [{"on": "type", "any_of": ["technical_support"]}],
        },
        "actions": [
            _task(
                "schedule_technical_support",
                "Schedule technical support or on-site training ({category}, {severity})",
                "high",
                {"hours": 48},
            )
        ],
    },
    "suggestion_to_backlog": {
        "description": "A suggestion goes to the product backlog (feedback groups similar ones into one item "
        "with votes): thank the customer and review it, with its votes, within a week.",
        "trigger": {"event": "crm.feedback.received.v1", "conditions": [{"on": "type", "any_of": ["suggestion"]}]},
        "actions": [
            _task(
                "review_suggestion",
                "Thank the customer and review the suggestion ({category}) on the product backlog",
                "low",
                {"hours": 168},
            )
        ],
    },
}

DEFAULT_PLAYBOOKS: dict[str, PlaybookDefinition] = {
    key: PlaybookDefinition.model_validate(definition) for key, definition in _DEFAULTS.items()
}
