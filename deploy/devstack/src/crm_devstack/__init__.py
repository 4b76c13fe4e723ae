"""The embedded dev stack: PostgreSQL (a wheel), Apache Kafka (Maven Central; Tansu as fallback), and the tooling to run the services."""
