"""The CRM services' common library: one copy of each mechanism the four services share."""
