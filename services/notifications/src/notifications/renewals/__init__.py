"""Contract renewals: one task per contract, N days (by tier) before it ends (docs/domain.md#renewals)."""
