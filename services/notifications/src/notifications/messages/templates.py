# ruff: noqa: RUF001  (the Chinese variants use full-width punctuation on purpose)
"""Message templates: shipped defaults, language choice with fallback, placeholder rendering.

Placeholders are `{{ path }}` with a dotted path into what the message knows: `customer.*` (the
card: name, tier, owner, region, industry, language), `event.*` (the trigger event: id, type,
time), `data.*` (the trigger event's data, or the `data` an API caller sent) and `staff.name`.
A path that leads nowhere renders as an empty string, so a template never fails at send time;
`PUT /v1/message-templates/{key}` refuses placeholders outside those roots instead.

Free text from an API caller reaches a customer only where the template allows it: a `data.*`
placeholder takes a short token (an id, a number, a date: `TOKEN`, no spaces, at most
`TOKEN_MAX` characters) unless it declares free text with its maximum length,
`{{ data.note | text:300 }}` (at most `FREE_TEXT_MAX`). `POST /v1/messages` refuses (422) a `data`
key no placeholder uses, free text in a token placeholder and text over its declared length.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FALLBACK_LANGUAGE = "en"
PLACEHOLDER = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*(?:\|\s*text\s*:\s*([0-9]{1,6})\s*)?\}\}"
)
TOKEN = re.compile(r"^[A-Za-z0-9_.:@+/#-]*$")
TOKEN_MAX = 100
FREE_TEXT_MAX = 2000
ROOTS = ("customer", "event", "data", "staff")

Variants = dict[str, dict[str, str]]

# Chinese text uses full-width punctuation on purpose.
DEFAULT_TEMPLATES: dict[str, Variants] = {
    "satisfaction_survey": {
        "en": {
            "subject": "How did we do, {{customer.name}}?",
            "body": "Dear {{customer.name}},\n\nyour case was resolved. Please tell us in one minute how "
            "satisfied you are with how we handled it.\n\nThank you.",
        },
        "de": {
            "subject": "Wie zufrieden waren Sie, {{customer.name}}?",
            "body": "Guten Tag {{customer.name}},\n\nIhr Anliegen wurde erledigt. Bitte sagen Sie uns in einer "
            "Minute, wie zufrieden Sie mit der Bearbeitung sind.\n\nVielen Dank.",
        },
        "zh": {
            "subject": "{{customer.name}}，您对我们的服务满意吗？",
            "body": "尊敬的{{customer.name}}：\n\n您的问题已经解决。请用一分钟告诉我们您对处理结果的满意程度。\n\n谢谢！",
        },
    },
    "win_back": {
        "en": {
            "subject": "We miss you, {{customer.name}}",
            "body": "Dear {{customer.name}},\n\nit has been a while. Your account manager {{customer.owner}} "
            "would like to hear what we can do better.",
        },
        "de": {
            "subject": "Wir vermissen Sie, {{customer.name}}",
            "body": "Guten Tag {{customer.name}},\n\nes ist eine Weile her. Ihr Ansprechpartner {{customer.owner}} "
            "möchte gern hören, was wir besser machen können.",
        },
        "zh": {
            "subject": "{{customer.name}}，我们想念您",
            "body": "尊敬的{{customer.name}}：\n\n好久不见。您的客户经理{{customer.owner}}希望了解我们可以改进的地方。",
        },
    },
    "credit_notice": {
        "en": {
            "subject": "About your account with us, {{customer.name}}",
            "body": "Dear {{customer.name}},\n\nour records show payments outstanding on your account. Your "
            "account manager {{customer.owner}} will contact you to agree how to settle them in the coming weeks.",
        },
        "de": {
            "subject": "Zu Ihrem Kundenkonto, {{customer.name}}",
            "body": "Guten Tag {{customer.name}},\n\nauf Ihrem Konto sind Zahlungen offen. Ihr Ansprechpartner "
            "{{customer.owner}} meldet sich, um mit Ihnen zu vereinbaren, wie sie in den nächsten Wochen "
            "ausgeglichen werden.",
        },
    },
    "complaint_received": {
        "en": {
            "subject": "We received your complaint",
            "body": "Dear {{customer.name}},\n\nthank you for telling us. We are on it and will contact you "
            "shortly. Reference: {{data.feedback_id}}",
        },
        "de": {
            "subject": "Wir haben Ihre Beschwerde erhalten",
            "body": "Guten Tag {{customer.name}},\n\ndanke für Ihre Nachricht. Wir kümmern uns darum und melden "
            "uns in Kürze. Referenz: {{data.feedback_id}}",
        },
        "zh": {
            "subject": "我们已收到您的投诉",
            "body": "尊敬的{{customer.name}}：\n\n感谢您的反馈。我们正在处理，并会尽快与您联系。编号：{{data.feedback_id}}",
        },
    },
    "staff_task_alert": {
        "en": {
            "subject": "[CRM] {{event.type}} for {{customer.name}}",
            "body": "Hello {{staff.name}},\n\n{{customer.name}} ({{customer.tier}}) needs attention: "
            "{{event.type}} at {{event.time}}.\nSeverity: {{data.severity}}  Category: {{data.category}}",
        },
    },
    "management_alert": {
        "en": {
            "subject": "[CRM] {{event.type}}: {{data.indicator}}{{data.category}}",
            "body": "Hello {{staff.name}},\n\na management alert needs an owner ({{event.time}}).\n"
            "Indicator: {{data.indicator}} of {{data.dimension}} {{data.segment}} = {{data.value}} "
            "(threshold {{data.threshold}}, alert {{data.direction}}).\n"
            "Theme: {{data.category}} / {{data.product}}, {{data.customers}} customers "
            "(before: {{data.previous_customers}}).\nThe task is in the service manager's queue.",
        },
    },
    # Campaigns (docs/domain.md#survey-campaigns): `data` is the campaign's: name, invitation id and link.
    "survey_invitation": {
        "en": {
            "subject": "{{data.campaign_name}}: tell us how we are doing",
            "body": "Dear {{customer.name}},\n\nplease answer our short questionnaire ({{data.questions}} "
            "questions): {{data.link}}\n\nThank you.",
        },
        "de": {
            "subject": "{{data.campaign_name}}: Wie zufrieden sind Sie?",
            "body": "Guten Tag {{customer.name}},\n\nbitte beantworten Sie unseren kurzen Fragebogen "
            "({{data.questions}} Fragen): {{data.link}}\n\nVielen Dank.",
        },
        "zh": {
            "subject": "{{data.campaign_name}}：请告诉我们您的意见",
            "body": "尊敬的{{customer.name}}：\n\n请填写我们的简短问卷（{{data.questions}}个问题）：{{data.link}}\n\n谢谢！",
        },
    },
    "newsletter": {
        "en": {
            "subject": "{{data.campaign_name}}",
            "body": "Dear {{customer.name}},\n\n{{data.text}}",
        },
    },
    "service_summary": {
        "en": {
            "subject": "{{data.campaign_name}}: your service summary",
            "body": "Dear {{customer.name}},\n\nhere is a summary of our service to you. {{data.text}}\n\n"
            "Your account manager: {{customer.owner}}",
        },
    },
}


def choose_language(variants: Mapping[str, Any], wanted: str | None) -> str:
    """The variant for a BCP 47 tag: exact ("de-CH"), then shorter prefixes ("de"), then English,
    then any (a template always has English, but a stored one is taken as it is)."""
    by_lower = {key.lower(): key for key in variants}
    if wanted:
        parts = wanted.lower().split("-")
        for length in range(len(parts), 0, -1):
            candidate = "-".join(parts[:length])
            if candidate in by_lower:
                return by_lower[candidate]
    if FALLBACK_LANGUAGE in by_lower:
        return by_lower[FALLBACK_LANGUAGE]
    return next(iter(variants))


def _lookup(values: Mapping[str, Any], path: str) -> Any:
    current: Any = values
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return None
    return current


def render_text(text: str, values: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = _lookup(values, match.group(1))
        if value is None or isinstance(value, dict | list):
            return ""
        limit = match.group(2)
        return str(value)[: int(limit)] if limit else str(value)

    return PLACEHOLDER.sub(replace, text)


def render(variants: Variants, language: str | None, values: Mapping[str, Any]) -> tuple[str, str, str]:
    """(language used, subject, body) of the variant for `language`."""
    chosen = choose_language(variants, language)
    variant = variants[chosen]
    return chosen, render_text(variant.get("subject", ""), values), render_text(variant.get("body", ""), values)


def unknown_placeholders(text: str) -> list[str]:
    """Placeholders whose root no message knows (typos caught when the template is saved)."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1).split(".")[0] not in ROOTS]


def free_text_problems(text: str) -> list[str]:
    """Free-text declarations a template may not make: on other roots than `data`, or too long."""
    problems = []
    for m in PLACEHOLDER.finditer(text):
        if m.group(2) is None:
            continue
        if not m.group(1).startswith("data."):
            problems.append(f"{m.group(1)}: only data.* placeholders may declare free text")
        elif not 1 <= int(m.group(2)) <= FREE_TEXT_MAX:
            problems.append(f"{m.group(1)}: free text is 1 to {FREE_TEXT_MAX} characters")
    return problems


def data_fields(variants: Variants) -> dict[str, int | None]:
    """The `data` keys a template's placeholders use (any variant): free-text maximum, or None for a token.
    A key used both ways keeps the strictest: a token wherever any placeholder takes only a token."""
    fields: dict[str, int | None] = {}
    for variant in variants.values():
        for text in variant.values():
            for m in PLACEHOLDER.finditer(text):
                path = m.group(1)
                if not path.startswith("data."):
                    continue
                key = path.split(".")[1]
                limit = int(m.group(2)) if m.group(2) else None
                if key not in fields:
                    fields[key] = limit
                elif fields[key] is not None:
                    fields[key] = None if limit is None else min(limit, fields[key] or limit)
    return fields


def refused_data(variants: Variants, data: Mapping[str, Any]) -> list[dict[str, str]]:
    """What in a caller's `data` the template does not allow (problem+json `errors`)."""
    allowed = data_fields(variants)
    errors = []
    for key, value in data.items():
        field = f"data.{key}"
        if key not in allowed:
            errors.append(
                {"field": field, "message": "no placeholder of this template uses it", "code": "not_in_template"}
            )
            continue
        text = "" if value is None else str(value)
        limit = allowed[key]
        if limit is None and (len(text) > TOKEN_MAX or not TOKEN.match(text)):
            message = f"this placeholder takes a short value (an id, number or date, at most {TOKEN_MAX} characters, no spaces), not free text"
            errors.append({"field": field, "message": message, "code": "free_text_not_allowed"})
        elif limit is not None and len(text) > limit:
            errors.append({"field": field, "message": f"at most {limit} characters here", "code": "too_long"})
    return errors
