"""Browser tests of the web console (their fixtures close with this package)."""
