"""The embedded dev stack: PostgreSQL and Tansu from wheels, and the tooling to run the services."""
