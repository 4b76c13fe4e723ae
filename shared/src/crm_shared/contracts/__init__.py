"""Integration event contracts: the only thing services know about each other.

A breaking change is a new versioned type (`...v2`), never an edit of an old one; the JSON
Schemas under schemas/ are exported from these models (`make schemas`) and a test fails if
they drift.
"""

from crm_shared.contracts.envelope import Envelope, new_event
from crm_shared.contracts.events import EVENT_PAYLOADS, Topics, dead_letter_topic

__all__ = ["EVENT_PAYLOADS", "Envelope", "Topics", "dead_letter_topic", "new_event"]
