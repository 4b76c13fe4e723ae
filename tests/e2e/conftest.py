"""The stack as `make run` starts it: PostgreSQL, Tansu, and the Procfile's eight processes."""

from collections.abc import Iterator

import pytest

from crm_devstack.stack import ROOT, procfile_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_devstack.testing import new_stack


class LiveSystem:
    def __init__(self, stack, supervisor: ProcessSupervisor) -> None:
        self.stack = stack
        self.supervisor = supervisor

    def url(self, service: str) -> str:
        return self.stack.api_url(service)


@pytest.fixture(scope="module")
def live_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSystem]:
    stack = new_stack(tmp_path_factory.mktemp("e2e-stack"))
    supervisor = ProcessSupervisor(procfile_commands(), stack.env(), stack.config.data_dir / "logs", ROOT)
    try:
        supervisor.start_all()
        wait_until_ready([stack.api_url(s) for s in stack.config.service_ports])
        yield LiveSystem(stack, supervisor)
    finally:
        supervisor.stop_all()
        stack.stop()
