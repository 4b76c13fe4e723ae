"""Topic creation (idempotent), used by the dev stack; production uses the deploy topic job."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def ensure_topics(bootstrap: str, topics: dict[str, int], replication_factor: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=replication_factor)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()
