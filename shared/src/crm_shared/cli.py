"""`crmctl`: the operator's command line.

    crmctl token [--subject S] [--scope SCOPE ...]   print a dev bearer token (last line)
    crmctl dlq list CONSUMER                          show dead letters of a consumer group
    crmctl dlq replay CONSUMER                        re-publish them to their original topics

Replay re-publishes each dead letter to the topic it came from (headers kept, dlq-* dropped)
and commits the replayer's offset, so running it twice does not replay twice; consumers that
had already processed an event skip it by its id.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiokafka import TopicPartition

from crm_shared.config import AuthSettings, KafkaSettings
from crm_shared.contracts.events import dead_letter_topic
from crm_shared.http.auth import ALL_SCOPES, mint_token
from crm_shared.messaging.producer import create_consumer, create_producer


async def _read_dead_letters(kafka: KafkaSettings, consumer_name: str, group: str | None) -> tuple[object, list]:
    topic = dead_letter_topic(consumer_name)
    consumer = create_consumer(kafka, group or f"{consumer_name}.dlq-inspector", [])
    await consumer.start()
    await consumer.topics()  # refreshes cluster metadata
    partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in partitions]
    if not tps:
        await consumer.stop()
        return None, []
    records: list = []
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
        await consumer.stop()  # type: ignore[attr-defined]
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
            await consumer.commit()  # type: ignore[attr-defined]
    finally:
        await producer.stop()
        await consumer.stop()  # type: ignore[attr-defined]
    print(f"{len(records)} dead letter(s) replayed for {consumer_name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crmctl", description="CRM operations")
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token", help="print a dev bearer token")
    token.add_argument("--subject", default="dev")
    token.add_argument("--scope", action="append", help="repeatable; default: every scope")
    token.add_argument("--ttl", type=int, default=86_400 * 30, help="seconds")
    dlq = sub.add_parser("dlq", help="dead letters")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("consumer", help="consumer group, e.g. scoring-worker")
    args = parser.parse_args(argv)

    if args.command == "token":
        scopes = tuple(args.scope) if args.scope else ALL_SCOPES
        print(f"# dev token for '{args.subject}' with scopes: {' '.join(scopes)}", file=sys.stderr)
        print(mint_token(AuthSettings(), subject=args.subject, scopes=scopes, ttl_seconds=args.ttl))
        return 0
    kafka = KafkaSettings()
    if args.action == "list":
        return asyncio.run(dlq_list(kafka, args.consumer))
    return asyncio.run(dlq_replay(kafka, args.consumer))


if __name__ == "__main__":
    raise SystemExit(main())
