"""The service registry: each service declares itself, so this library never names one.

A service package exposes a `ServiceManifest` under the `crm.services` entry point group
(`[project.entry-points."crm.services"]` in its pyproject.toml). The topic plan, the dev stack,
crmctl and the tests read the installed services from there; adding a service edits only its own
package. Only tooling reads the registry: a running service knows itself from its own manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "crm.services"


@dataclass(frozen=True)
class Command:
    """A `crmctl <name>` command a service contributes (e.g. a `rescore`).

    `target` is "module:function", resolved only when the command runs, so crmctl never imports
    a service: an async function `(api_url, token) -> exit code` that drives the service's api.
    """

    name: str
    help: str
    target: str


@dataclass(frozen=True)
class ServiceManifest:
    """What the platform must know about a service to run, deploy and operate it."""

    name: str  # package, settings prefix (`<NAME>_`), Procfile processes `<name>-api|worker`
    api_port: int  # the dev api port (and `CRM_<NAME>_URL`'s default)
    metrics_port: int  # the worker's dev Prometheus port
    topic: str | None = None  # the event topic it produces (one per producing service)
    consumer_groups: tuple[str, ...] = ()  # each gets its dead-letter topic
    commands: tuple[Command, ...] = ()

    @property
    def database(self) -> str:
        return f"crm_{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"


@cache
def service_manifests() -> tuple[ServiceManifest, ...]:
    """Every installed service, in dev api port order (a stable order for plans and listings)."""
    manifests = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        manifest = point.load()
        if not isinstance(manifest, ServiceManifest) or manifest.name != point.name:
            raise TypeError(f"entry point {point.name} = {point.value} is not that service's ServiceManifest")
        manifests.append(manifest)
    return tuple(sorted(manifests, key=lambda m: m.api_port))


def service_manifest(name: str) -> ServiceManifest:
    for manifest in service_manifests():
        if manifest.name == name:
            return manifest
    raise LookupError(f"no installed service {name!r} (entry point group {ENTRY_POINT_GROUP})")
