"""Notifications (outreach): turns what happened to a customer into the right follow-up work."""
