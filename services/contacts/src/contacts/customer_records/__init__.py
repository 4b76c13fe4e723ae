"""The customer record, its identifiers and its queries: the lowest domain package, which every use case reads."""
