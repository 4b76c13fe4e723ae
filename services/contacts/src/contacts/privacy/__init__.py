"""A customer's data export: contacts' own rows, composed with every other service's part."""
