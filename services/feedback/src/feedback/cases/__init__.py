"""Complaint cases: the lifecycle of a complaint, its history and internal notes."""
