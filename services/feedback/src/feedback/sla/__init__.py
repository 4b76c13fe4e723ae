"""SLA clocks: first-response and resolution deadlines of complaint cases (issue "Feedback", item 5)."""
