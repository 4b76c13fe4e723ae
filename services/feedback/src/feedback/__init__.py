"""Feedback: every voice of the customer, captured once, from every channel."""
