"""The floor: the complaint loop's hops with nothing but asyncpg, aiokafka and a bare HTTP server.

Same hops, same guarantees, none of the framework: what this costs is what the hardware and the
two servers (PostgreSQL, the broker) allow, so `pipeline / floor` is what our code adds.

- intake (HTTP, like feedback-api): one transaction {claim Idempotency-Key, look the customer up,
  insert the feedback, insert the outbox row, store the answer}, answer 201, then produce with
  acks=all and mark the outbox row sent in a batched UPDATE (as EventPublisher does);
- scorer (like scoring-worker): consume, one transaction {inbox insert, lock the score, upsert
  it, insert history, insert the outbox row}, produce `score changed`, commit the offset;
- tasker (like notifications-worker): consume feedback and score events, one transaction {inbox
  insert, insert the task once, insert the outbox row} (score events: inbox only), produce
  `task created`, commit the offset.

Each role is its own process (`python -m tests.bench.floor <role>`), as the services are.
Producer and consumer options come from the same KafkaSettings as the pipeline's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import uuid
from datetime import UTC, datetime

import asyncpg
import orjson
import uvloop

from crm_shared.config import KafkaSettings
from crm_shared.messaging.producer import create_consumer, create_producer

FEEDBACK, SCORES, OUTREACH = "floor.feedback", "floor.scores", "floor.outreach"
TOPICS = {FEEDBACK: 6, SCORES: 6, OUTREACH: 6}

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (id uuid PRIMARY KEY, tier text NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (key text PRIMARY KEY, status int, body bytea,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS feedback (id uuid PRIMARY KEY, customer_id uuid NOT NULL, body jsonb NOT NULL,
    received_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id uuid PRIMARY KEY, topic text NOT NULL, key bytea, value bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS inbox (consumer text NOT NULL, event_id uuid NOT NULL, PRIMARY KEY (consumer, event_id));
CREATE TABLE IF NOT EXISTS scores (customer_id uuid PRIMARY KEY, complaints int NOT NULL, score numeric NOT NULL);
CREATE TABLE IF NOT EXISTS score_history (id uuid PRIMARY KEY, customer_id uuid NOT NULL, score numeric NOT NULL,
    cause uuid NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (id uuid PRIMARY KEY, customer_id uuid NOT NULL, cause uuid NOT NULL,
    playbook text NOT NULL, UNIQUE (cause, playbook));
"""


class Outbox:
    """Produce after commit, then mark rows sent in one UPDATE per 100 ms (like EventPublisher)."""

    def __init__(self, pool: asyncpg.Pool, kafka: KafkaSettings, client_id: str) -> None:
        self.pool = pool
        self.producer = create_producer(kafka, client_id)
        self.sent: list[uuid.UUID] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.producer.start()
        self.tasks.add(asyncio.create_task(self._mark_sent()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.producer.stop()

    def dispatch(self, event_id: uuid.UUID, topic: str, key: bytes, value: bytes, correlation_id: bytes) -> None:
        task = asyncio.create_task(self._publish(event_id, topic, key, value, correlation_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _publish(self, event_id: uuid.UUID, topic: str, key: bytes, value: bytes, correlation: bytes) -> None:
        headers = [("correlation_id", correlation)]
        await (await self.producer.send(topic, value, key=key, headers=headers))
        self.sent.append(event_id)

    async def _mark_sent(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self.sent:
                ids, self.sent = self.sent, []
                await self.pool.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::uuid[])", ids)


def event(type_: str, customer_id: str, data: dict) -> tuple[uuid.UUID, bytes]:
    event_id = uuid.uuid4()
    body = {"id": str(event_id), "type": type_, "subject": customer_id, "time": datetime.now(UTC).isoformat()}
    return event_id, orjson.dumps(body | {"data": data})


# -- intake ------------------------------------------------------------------------------------


async def intake(
    pool: asyncpg.Pool, outbox: Outbox, body: bytes, idempotency_key: str, correlation_id: str
) -> tuple[int, bytes]:
    complaint = orjson.loads(body)
    customer_id = complaint["customer_id"]
    feedback_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        if (
            await conn.fetchval(
                "INSERT INTO idempotency (key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING key", idempotency_key
            )
            is None
        ):
            return 409, b'{"title":"replay"}'
        tier = await conn.fetchval("SELECT tier FROM customers WHERE id = $1", uuid.UUID(customer_id))
        if tier is None:
            return 422, b'{"title":"unknown customer"}'
        await conn.execute(
            "INSERT INTO feedback (id, customer_id, body, received_at) VALUES ($1, $2, $3, now())",
            feedback_id,
            uuid.UUID(customer_id),
            body.decode(),
        )
        event_id, value = event("feedback.received", customer_id, complaint | {"feedback_id": str(feedback_id)})
        await conn.execute(
            "INSERT INTO outbox (id, topic, key, value) VALUES ($1, $2, $3, $4)",
            event_id,
            FEEDBACK,
            customer_id.encode(),
            value,
        )
        answer = orjson.dumps({"id": str(feedback_id), "customer_id": customer_id, "tier": tier})
        await conn.execute("UPDATE idempotency SET status = 201, body = $2 WHERE key = $1", idempotency_key, answer)
    outbox.dispatch(event_id, FEEDBACK, customer_id.encode(), value, correlation_id.encode())
    return 201, answer


async def serve_http(pool: asyncpg.Pool, outbox: Outbox, host: str, port: int) -> asyncio.Server:
    """HTTP/1.1 keep-alive with Content-Length bodies: all the bench client speaks."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request_line := await reader.readline():
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                if not headers.get("authorization", "").startswith("Bearer ") or not request_line.startswith(b"POST"):
                    status, answer = 401, b"{}"
                else:
                    status, answer = await intake(
                        pool,
                        outbox,
                        body,
                        headers.get("idempotency-key", str(uuid.uuid4())),
                        headers.get("x-correlation-id", str(uuid.uuid4())),
                    )
                writer.write(
                    b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (status, len(answer), answer)
                )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(connection, host, port, backlog=1024)


# -- consumers ---------------------------------------------------------------------------------


async def score(conn: asyncpg.Connection, envelope: dict) -> tuple[str, bytes, uuid.UUID, bytes] | None:
    customer_id = uuid.UUID(envelope["subject"])
    row = await conn.fetchrow("SELECT complaints, score FROM scores WHERE customer_id = $1 FOR UPDATE", customer_id)
    complaints = (row["complaints"] if row else 0) + 1
    previous = float(row["score"]) if row else 75.0
    new_score = max(0.0, 75.0 - 8 * complaints)
    await conn.execute(
        "INSERT INTO scores (customer_id, complaints, score) VALUES ($1, $2, $3) "
        "ON CONFLICT (customer_id) DO UPDATE SET complaints = excluded.complaints, score = excluded.score",
        customer_id,
        complaints,
        new_score,
    )
    await conn.execute(
        "INSERT INTO score_history (id, customer_id, score, cause) VALUES ($1, $2, $3, $4)",
        uuid.uuid4(),
        customer_id,
        new_score,
        uuid.UUID(envelope["id"]),
    )
    event_id, value = event("score.changed", envelope["subject"], {"previous": previous, "score": new_score})
    return SCORES, envelope["subject"].encode(), event_id, value


async def create_task(conn: asyncpg.Connection, envelope: dict) -> tuple[str, bytes, uuid.UUID, bytes] | None:
    if envelope["type"] != "feedback.received":
        return None  # score events: the inbox row only (no band drop in the benchmark)
    task_id = await conn.fetchval(
        "INSERT INTO tasks (id, customer_id, cause, playbook) VALUES ($1, $2, $3, 'service_recovery') "
        "ON CONFLICT DO NOTHING RETURNING id",
        uuid.uuid4(),
        uuid.UUID(envelope["subject"]),
        uuid.UUID(envelope["id"]),
    )
    event_id, value = event("task.created", envelope["subject"], {"task_id": str(task_id)})
    return OUTREACH, envelope["subject"].encode(), event_id, value


HANDLERS = {"scorer": ([FEEDBACK], score), "tasker": ([FEEDBACK, SCORES], create_task)}


async def consume(role: str, pool: asyncpg.Pool, outbox: Outbox, kafka: KafkaSettings, stop: asyncio.Event) -> None:
    topics, handler = HANDLERS[role]
    consumer = create_consumer(kafka, f"floor-{role}", topics)
    await consumer.start()
    try:
        while not stop.is_set():
            for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                for record in records:
                    envelope = orjson.loads(record.value)
                    correlation_id = dict(record.headers).get("correlation_id", b"")
                    async with pool.acquire() as conn, conn.transaction():
                        first = await conn.fetchval(
                            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING "
                            "RETURNING event_id",
                            role,
                            uuid.UUID(envelope["id"]),
                        )
                        produced = await handler(conn, envelope) if first else None
                        if produced:
                            topic, key, event_id, value = produced
                            await conn.execute(
                                "INSERT INTO outbox (id, topic, key, value) VALUES ($1, $2, $3, $4)",
                                event_id,
                                topic,
                                key,
                                value,
                            )
                    if produced:
                        outbox.dispatch(event_id, topic, key, value, correlation_id)
                await consumer.commit({tp: records[-1].offset + 1})
    finally:
        await consumer.stop()


# -- process entry -----------------------------------------------------------------------------


async def prepare(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA)
    finally:
        await conn.close()


async def main(role: str, dsn: str, host: str, port: int) -> None:
    kafka = KafkaSettings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
    outbox = Outbox(pool, kafka, f"floor-{role}")
    await outbox.start()
    try:
        if role == "intake":
            server = await serve_http(pool, outbox, host, port)
            async with server:
                await stop.wait()
        else:
            await consume(role, pool, outbox, kafka, stop)
    finally:
        with contextlib.suppress(Exception):
            await outbox.stop()
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="One role of the floor pipeline.")
    parser.add_argument("role", choices=["intake", "scorer", "tasker"])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    uvloop.run(main(args.role, args.dsn, args.host, args.port))
