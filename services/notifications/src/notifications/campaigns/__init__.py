"""Campaigns: surveys, newsletters and service summaries to a segment of customers (docs/domain.md#survey-campaigns)."""
