"""The feedback row and its queries: the lowest domain package, which intake, cases, SLA and reports all read."""
