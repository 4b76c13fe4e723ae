"""The indicator system: service quality, satisfaction, retention and value by segment and period."""
