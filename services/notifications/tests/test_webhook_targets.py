"""Unit: the SSRF guard decides which addresses an integrator's webhook may reach."""

import ipaddress

import pytest
from pydantic import ValidationError

from notifications.config import Settings
from notifications.outbound.targets import TargetGuard, parse_networks

INSIDE = [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://10.1.2.3/hook",
    "https://192.168.0.10:8443/hook",
    "http://172.16.5.5/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://127.0.0.1:5432/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fd00::5]/",
    "http://[::ffff:10.0.0.1]/",  # an IPv4-mapped private address
    "http://localhost:9200/",
    "http://db.localhost/",
]


@pytest.mark.parametrize("url", INSIDE)
def test_private_and_local_targets_are_refused_by_default(url: str) -> None:
    refused = TargetGuard().refusal_of_url(url)
    assert refused is not None and "not a public address" in refused


@pytest.mark.parametrize("url", ["https://93.184.215.14/hook", "https://[2606:4700::1111]/x", "https://erp.example/h"])
def test_public_addresses_and_names_pass_without_asking_dns(url: str) -> None:
    assert TargetGuard().refusal_of_url(url) is None


def test_an_allowed_network_opens_that_network_only() -> None:
    guard = TargetGuard(parse_networks("127.0.0.0/8, 10.20.0.0/16"))
    assert guard.refusal_of_url("http://127.0.0.1:8080/") is None
    assert guard.refusal_of_url("http://localhost/") is None
    assert guard.refusal_of_url("http://10.20.3.4/") is None
    assert guard.refusal_of_url("http://10.21.0.1/") is not None
    assert guard.refusal_of_address(ipaddress.ip_address("169.254.169.254")) is not None


async def test_a_name_is_refused_when_any_address_it_resolves_to_is_private() -> None:
    # localhost resolves (from /etc/hosts) to loopback only: refused unless loopback is allowed.
    assert await TargetGuard().refusal("http://localhost/") is not None
    assert await TargetGuard(parse_networks("127.0.0.0/8,::1/128")).refusal("http://localhost/") is None
    # A name that does not resolve is left to the send, which fails and retries like any outage.
    assert await TargetGuard(resolve_timeout=2).refusal("http://no-such-host.invalid/") is None


def test_a_mistyped_allowed_network_stops_the_service_from_starting() -> None:
    with pytest.raises(ValidationError, match="webhook_allowed_networks"):
        Settings(webhook_allowed_networks="10.0.0.0/33")


# IPv6 forms that carry an IPv4 address: judged by the address they carry (a NAT64 gateway or
# a 6to4 relay would deliver to it).
EMBEDDED_PRIVATE = [
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254 (cloud metadata)
    "http://[64:ff9b::10.0.0.1]/",  # NAT64, dotted form
    "http://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",  # IPv4-mapped, hex form of 127.0.0.1
    "http://[::10.0.0.1]/",  # IPv4-compatible (deprecated, still routable by some stacks)
    "http://[::a9fe:a9fe]/",  # IPv4-compatible, hex form
]


@pytest.mark.parametrize("url", EMBEDDED_PRIVATE)
def test_ipv6_forms_carrying_a_private_ipv4_address_are_refused(url: str) -> None:
    refused = TargetGuard().refusal_of_url(url)
    assert refused is not None and "not a public address" in refused and "carrying" in refused


@pytest.mark.parametrize("url", ["http://[64:ff9b::5db8:d70e]/", "http://[2002:5db8:d70e::1]/"])
def test_ipv6_forms_carrying_a_public_ipv4_address_pass(url: str) -> None:
    assert TargetGuard().refusal_of_url(url) is None  # 93.184.215.14 behind NAT64 / 6to4


def test_allowing_an_ipv4_network_also_allows_its_ipv6_embeddings() -> None:
    guard = TargetGuard(parse_networks("10.0.0.0/8"))
    assert guard.refusal_of_url("http://[64:ff9b::10.0.0.1]/") is None
    assert guard.refusal_of_url("http://[64:ff9b::a9fe:a9fe]/") is not None
