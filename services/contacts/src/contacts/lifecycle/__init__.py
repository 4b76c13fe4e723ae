"""Lifecycle rules: stages that move by rules kept as data (docs/domain.md#lifecycle)."""
