"""Activity rows and their queries: tiers, merges, erasure and imports read them below the activity use cases."""
