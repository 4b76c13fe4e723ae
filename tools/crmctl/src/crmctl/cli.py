"""`crmctl`: the operator's command line.

    crmctl token [--subject S] [--scope SCOPE ...] [--role R ...] [--team T ...] [--partner P]
                                                      print a dev bearer token (last line)
    crmctl topics create [--partitions N] [--retention-hours H] [--replication-factor R]
                                                      create the event and dead-letter topics
    crmctl dlq list CONSUMER                          show dead letters of a consumer group
    crmctl dlq inspect CONSUMER OFFSET                one dead letter: its error headers and event
    crmctl dlq replay CONSUMER                        re-publish them to their original topics
    crmctl outbox backlog [--database-url URL ...]    unsent outbox rows and the oldest's age
    crmctl seed                                       demo data through the apis (idempotent)

Services contribute commands of their own through their manifests (crm_shared.services; e.g.
`crmctl rescore`, declared by scoring). The services crmctl knows are the ones installed beside it
(the `crm.services` entry points): it reads them through that registry and imports none.

Addresses come from the same variables the services read: CRM_KAFKA_BOOTSTRAP_SERVERS,
`<SERVICE>_DATABASE_URL`, and `CRM_<SERVICE>_URL` for the apis (default 127.0.0.1:8001-8004).
The commands that call an api use `--token`, else `CRM_TOKEN`, else a dev token minted from
the shared secret (dev only).

Replay re-publishes each dead letter to the topic it came from (headers kept, dlq-* dropped)
and commits the replayer's offset, so running it twice does not replay twice; consumers that
had already processed an event skip it by its id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pkgutil
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from crm_shared.config import AuthSettings, KafkaSettings
from crm_shared.contracts.events import dead_letter_topic
from crm_shared.contracts.scopes import ALL_SCOPES
from crm_shared.http.auth import ROLES, mint_token
from crm_shared.messaging.producer import create_consumer, create_producer
from crm_shared.messaging.topics import partitions_of
from crm_shared.services import service_manifest, service_manifests


async def _read_dead_letters(
    kafka: KafkaSettings, consumer_name: str, group: str | None
) -> tuple[AIOKafkaConsumer | None, list[Any]]:
    topic = dead_letter_topic(consumer_name)
    consumer = create_consumer(kafka, group or f"{consumer_name}.dlq-inspector", [])
    await consumer.start()
    tps = await partitions_of(consumer, topic)
    if not tps:
        await consumer.stop()
        return None, []
    records: list[Any] = []
    if group is None:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
    else:
        consumer.subscribe([topic])
        while not consumer.assignment():  # the group join; keep whatever it already fetched
            for items in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(items)
    end = await consumer.end_offsets(list(consumer.assignment()))
    while any([await consumer.position(tp) < end[tp] for tp in end]):
        batch = await consumer.getmany(timeout_ms=1000)
        for items in batch.values():
            records.extend(items)
    return consumer, records


async def dlq_list(kafka: KafkaSettings, consumer_name: str) -> int:
    consumer, records = await _read_dead_letters(kafka, consumer_name, None)
    for record in records:
        headers = {k: v.decode(errors="replace") for k, v in record.headers}
        print(
            f"{headers.get('ce_type', '?')} id={headers.get('ce_id', '?')} "
            f"from={headers.get('dlq-original-topic')}[{headers.get('dlq-original-partition')}]@{headers.get('dlq-original-offset')} "
            f"error={headers.get('dlq-error-type')}: {headers.get('dlq-error')}"
        )
    print(f"{len(records)} dead letter(s) for {consumer_name}")
    if consumer is not None:
        await consumer.stop()
    return 0


async def dlq_replay(kafka: KafkaSettings, consumer_name: str) -> int:
    consumer, records = await _read_dead_letters(kafka, consumer_name, f"{consumer_name}.dlq-replayer")
    if consumer is None:
        print(f"0 dead letter(s) replayed for {consumer_name}")
        return 0
    producer = create_producer(kafka, "crmctl")
    await producer.start()
    try:
        for record in records:
            headers = [(k, v) for k, v in record.headers if not k.startswith("dlq-")]
            original = dict(record.headers)["dlq-original-topic"].decode()
            await producer.send_and_wait(original, record.value, key=record.key, headers=headers)
        if records:
            await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    print(f"{len(records)} dead letter(s) replayed for {consumer_name}")
    return 0


async def dlq_inspect(kafka: KafkaSettings, consumer_name: str, offset: int, partition: int) -> int:
    topic = dead_letter_topic(consumer_name)
    consumer = create_consumer(kafka, f"{consumer_name}.dlq-inspector", [])
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        if offset >= end:
            print(f"no dead letter at {topic}[{partition}]@{offset} (the topic ends at {end})", file=sys.stderr)
            return 1
        consumer.seek(tp, offset)
        record = None
        while record is None:
            for items in (await consumer.getmany(tp, timeout_ms=1000)).values():
                record = next((r for r in items if r.offset == offset), record)
    finally:
        await consumer.stop()
    print(f"{topic}[{partition}]@{offset}  key={(record.key or b'').decode(errors='replace')}")
    for name, value in record.headers:
        print(f"  {name}: {value.decode(errors='replace')}")
    try:
        print(json.dumps(json.loads(record.value or b""), indent=2))
    except ValueError:
        print(repr(record.value))
    return 0


def service_database_urls() -> dict[str, str]:
    """Each service's database, from `<SERVICE>_DATABASE_URL` (the services' own settings)."""
    return {
        service: os.environ.get(
            f"{service.upper()}_DATABASE_URL",
            f"postgresql+asyncpg://postgres@127.0.0.1:5432/{service_manifest(service).database}",
        )
        for service in (m.name for m in service_manifests())
    }


async def outbox_backlog(urls: dict[str, str]) -> int:
    from sqlalchemy.ext.asyncio import create_async_engine

    from crm_shared.messaging.outbox import outbox_backlog as backlog

    failed = 0
    print(f"{'service':<16}{'unsent':>8}  oldest unsent")
    for service, url in urls.items():
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                from sqlalchemy.ext.asyncio import AsyncSession

                unsent, age = await backlog(AsyncSession(bind=conn))
            print(f"{service:<16}{unsent:>8}  {f'{age:.1f} s' if unsent else '-'}")
        except Exception as exc:
            failed += 1
            print(f"{service:<16}{'?':>8}  unreachable: {type(exc).__name__}: {exc}"[:200])
        finally:
            await engine.dispose()
    return 1 if failed else 0


def api_url(service: str) -> str:
    return os.environ.get(f"CRM_{service.upper()}_URL", f"http://127.0.0.1:{service_manifest(service).api_port}")


def api_token(given: str | None, subject: str) -> str:
    return given or os.environ.get("CRM_TOKEN") or mint_token(AuthSettings(), subject=subject, scopes=ALL_SCOPES)


async def seed_demo(token: str) -> int:
    from crmctl.seed import seed

    urls = {m.name: api_url(m.name) for m in service_manifests()}
    result = await seed(urls, token)
    made = ", ".join(f"{n} {kind}" for kind, n in sorted(result.created.items())) or "nothing (already seeded)"
    print(f"created: {made}; already there: {sum(result.existing.values())} item(s)")
    print(f"key account to look at: Nordlicht Logistik GmbH, customer id {result.key_account}")
    print(f"  {urls['contacts']}/v1/customers/{result.key_account}/360")
    print(f"  {urls['scoring']}/v1/scores/{result.key_account}")
    print(f"  {urls['notifications']}/v1/tasks?customer_id={result.key_account}")
    return 0


async def create_topics(kafka: KafkaSettings, partitions: int, retention_hours: float | None, replication: int) -> int:
    from crm_shared.messaging.topics import ensure_topics, topic_plan

    if retention_hours:
        retention = int(retention_hours * 3_600_000)
        plan = topic_plan(partitions, retention, retention)
    else:
        plan = topic_plan(partitions)
    created, _existing = await ensure_topics(kafka, plan, replication)
    for spec in plan:
        state = "created" if spec.name in created else "exists (left as it is)"
        print(f"{spec.name:<40} {spec.partitions:>3} partition(s)  {state}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crmctl", description="CRM operations")
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token", help="print a dev bearer token")
    token.add_argument("--subject", default="dev")
    token.add_argument("--scope", action="append", help="repeatable; default: every scope")
    token.add_argument("--ttl", type=int, default=86_400 * 30, help="seconds")
    token.add_argument("--role", action="append", default=[], choices=ROLES, help="repeatable; default: none")
    token.add_argument("--team", action="append", default=[], help="repeatable")
    token.add_argument("--partner", help="the partner organisation a partner token acts for")
    dlq = sub.add_parser("dlq", help="dead letters")
    dlq.add_argument("action", choices=["list", "inspect", "replay"])
    dlq.add_argument("consumer", help="consumer group, e.g. scoring-worker")
    dlq.add_argument("offset", nargs="?", type=int, help="inspect: the dead letter's offset (from dlq list)")
    dlq.add_argument("--partition", type=int, default=0)
    topics = sub.add_parser("topics", help="Kafka topics")
    topics.add_argument("action", choices=["create"])
    topics.add_argument("--partitions", type=int, default=6, help="per event topic (dead-letter topics: 1)")
    topics.add_argument(
        "--retention-hours", type=float, default=None, help="every topic; default: 7 days, dead letters 14"
    )
    topics.add_argument("--replication-factor", type=int, default=1)
    outbox = sub.add_parser("outbox", help="outbox tables")
    outbox.add_argument("action", choices=["backlog"])
    outbox.add_argument(
        "--database-url", action="append", metavar="[SERVICE=]URL", help="repeatable; default: <SERVICE>_DATABASE_URL"
    )
    # Each service's own commands (its manifest), then seed; each calls an api with a token.
    hooks = {c.name: (m.name, c.target) for m in service_manifests() for c in m.commands}
    helps = {c.name: c.help for m in service_manifests() for c in m.commands}
    for name, text in (*helps.items(), ("seed", "load demo data (idempotent)")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--token", help="bearer token; default: CRM_TOKEN, else a dev token")
    args = parser.parse_args(argv)

    if args.command == "token":
        scopes = tuple(args.scope) if args.scope else ALL_SCOPES
        print(f"# dev token for '{args.subject}' with scopes: {' '.join(scopes)}", file=sys.stderr)
        print(
            mint_token(
                AuthSettings(),
                subject=args.subject,
                scopes=scopes,
                ttl_seconds=args.ttl,
                roles=tuple(args.role),
                teams=tuple(args.team),
                partner=args.partner,
            )
        )
        return 0
    if args.command in hooks:
        service, target = hooks[args.command]
        run = pkgutil.resolve_name(target)
        return int(asyncio.run(run(api_url(service), api_token(args.token, "crmctl"))))
    if args.command == "seed":
        return asyncio.run(seed_demo(api_token(args.token, "crmctl-seed")))
    if args.command == "outbox":
        urls = service_database_urls()
        if args.database_url:
            given = [u.split("=", 1) if "=" in u.split("://", 1)[0] else [u, u] for u in args.database_url]
            urls = {name: url for name, url in given}
        return asyncio.run(outbox_backlog(urls))
    kafka = KafkaSettings()
    if args.command == "topics":
        return asyncio.run(create_topics(kafka, args.partitions, args.retention_hours, args.replication_factor))
    if args.action == "list":
        return asyncio.run(dlq_list(kafka, args.consumer))
    if args.action == "inspect":
        if args.offset is None:
            parser.error("dlq inspect needs an OFFSET (see crmctl dlq list)")
        return asyncio.run(dlq_inspect(kafka, args.consumer, args.offset, args.partition))
    return asyncio.run(dlq_replay(kafka, args.consumer))


if __name__ == "__main__":
    raise SystemExit(main())
