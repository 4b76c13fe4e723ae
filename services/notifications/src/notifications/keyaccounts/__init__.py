"""The key-account programme's yearly check: every key account has a senior-management visit planned."""
