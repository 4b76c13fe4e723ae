"""crmctl against the running test system: demo seed, topics, outbox backlog; commands services declare."""

import asyncio
import os
import re
import sys
import uuid
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from crm_devstack.testing import eventually
from crm_shared.config import KafkaSettings
from crm_shared.contracts import dead_letter_topic
from crm_shared.messaging.producer import create_admin
from crm_shared.messaging.topics import TopicSpec, consumer_groups, ensure_topics, topic_plan
from crmctl import cli


@pytest.mark.integration
async def test_seed_fills_a_key_accounts_360_view_and_a_second_run_adds_nothing(services, token) -> None:
    from crmctl.seed import seed

    urls = {service: str(client.base_url) for service, client in services.clients.items()}
    # The console script, as `make seed` runs it (asynchronously: the apis live in this loop).
    env = os.environ | {f"CRM_{service.upper()}_URL": url for service, url in urls.items()}
    crmctl = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("crmctl")), "seed", env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await crmctl.communicate()
    assert crmctl.returncode == 0, err.decode()
    assert "30 customers" in out.decode()
    key_account = re.search(r"customer id ([0-9a-f-]{36})", out.decode()).group(1)

    async def view_complete():
        view = (await services.contacts.get(f"/v1/customers/{key_account}/360")).json()
        # The seeded contracts end within a year: a renewal task may come before the complaint's.
        opened = {t["type"] for t in (view["tasks"] or {}).get("open", [])}
        ready = view["recent_feedback"] and view["scores"] and "service_recovery" in opened
        return view if ready else None

    view = await eventually(view_complete, timeout=45)
    assert view["customer"]["tier"] == "key" and view["customer"]["owner"] == "alice"
    assert {f["type"] for f in view["recent_feedback"]} >= {"complaint", "survey_response"}
    assert {a["details"]["kind"] for a in view["recent_activities"]} == {"contract", "order"}
    assert {"service_recovery", "contract_renewal"} <= {t["type"] for t in view["tasks"]["open"]}

    # Again, as another caller (so no Idempotency-Key of the first run applies): the external ids
    # and source references alone keep it from adding anything.
    second = await seed(urls, token)
    assert not second.created, second.created
    assert second.key_account == key_account and len(set(second.customers.values())) == 30
    resolved = (await services.feedback.get(f"/v1/feedback/{second.feedback['K04-1']}")).json()
    assert resolved["status"] == "resolved"
    again = (await services.contacts.get(f"/v1/customers/{key_account}/360")).json()
    assert len(again["recent_feedback"]) == len(view["recent_feedback"])


@pytest.mark.integration
async def test_topics_create_is_idempotent_and_covers_every_dead_letter_topic(services, capsys) -> None:
    kafka = KafkaSettings(bootstrap_servers=services.stack.bootstrap)
    name = f"crm.test-{uuid.uuid4().hex[:8]}"
    spec = TopicSpec(name, partitions=3, retention_ms=3_600_000)
    assert await ensure_topics(kafka, [spec]) == ([name], [])
    assert await ensure_topics(kafka, [spec]) == ([], [name])

    assert await cli.create_topics(kafka, 6, 24, 1) == 0  # the dev stack made them all already
    out = capsys.readouterr().out
    for group in consumer_groups():
        assert f"{dead_letter_topic(group)}" in out
    assert "created" not in out.replace("exists", "")


@pytest.mark.integration
async def test_the_dev_stack_created_its_topics_with_the_plans_settings(services) -> None:
    kafka = KafkaSettings(bootstrap_servers=services.stack.bootstrap)
    plan = {spec.name: spec for spec in topic_plan()}
    admin = create_admin(kafka)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in plan])
    finally:
        await admin.close()
    for _code, _message, _type, name, entries in response.resources:
        configs = {entry[0]: entry[1] for entry in entries}
        expected = plan[name].configs()
        assert {key: configs[key] for key in expected} == expected, name


@pytest.mark.integration
async def test_outbox_backlog_reports_every_service_and_a_database_it_cannot_reach(services, capsys) -> None:
    urls = {service: services.stack.database_url(service) for service in services.clients}
    assert await cli.outbox_backlog(urls) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in lines] == list(urls)
    assert all(line.split()[1].isdigit() for line in lines)
    unreachable = {"nowhere": "postgresql+asyncpg://postgres@127.0.0.1:1/none"}
    assert await cli.outbox_backlog(unreachable) == 1
    assert "unreachable" in capsys.readouterr().out


def test_services_contribute_their_commands_through_their_manifests(capsys) -> None:
    """`crmctl rescore` exists because scoring declares it (its manifest), not because crmctl knows scoring."""
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "rescore" in capsys.readouterr().out
