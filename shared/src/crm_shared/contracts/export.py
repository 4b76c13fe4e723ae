"""Exports every event contract (and the envelope) as JSON Schema files for integrators."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import EVENT_PAYLOADS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render() -> dict[str, str]:
    files = {"envelope.json": Envelope.model_json_schema()}
    for event_type, model in EVENT_PAYLOADS.items():
        schema = model.model_json_schema()
        schema["$id"] = f"urn:crm:event:{event_type}"
        schema["title"] = event_type
        files[f"{event_type}.json"] = schema
    return {name: json.dumps(schema, indent=2, sort_keys=True) + "\n" for name, schema in files.items()}


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in render().items():
        (SCHEMA_DIR / name).write_text(text)
    print(f"wrote {len(render())} schemas to {SCHEMA_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
