"""Running the playbooks: trigger events in, the matching actions executed (tasks, messages, webhooks)."""
