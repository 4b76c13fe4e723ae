"""Contacts: the customer master every other service learns customers from."""
