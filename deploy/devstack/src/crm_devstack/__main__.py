"""`python -m crm_devstack run`: the whole system on one machine, stopped by Ctrl-C.

Starts PostgreSQL and the broker (Apache Kafka; Tansu where Java or Maven is missing) in their own
sessions, so Ctrl-C reaches them only after the services have drained; prepares databases, migrations and topics, then runs the eight
processes of deploy/Procfile and the web console's server under honcho (building console/dist first
when its sources changed). On Ctrl-C or SIGTERM: honcho stops the services,
then the broker and PostgreSQL are stopped. Nothing is left running.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys

from crm_devstack import console
from crm_devstack.stack import ROOT, DevStack, StackConfig, run_commands


def _banner(stack: DevStack, *, with_console: bool = True) -> str:
    lines = ["", "CRM dev stack is up:"]
    if with_console:
        lines.append(f"  Console        {stack.console_url()}  (sign in as a demo user)")
    for service in stack.config.service_ports:
        lines.append(f"  {service:<14} {stack.api_url(service)}/docs")
    ports = ", ".join(str(p) for p in stack.config.metrics_ports.values())
    lines += [
        f"  Metrics        /metrics on each api; workers on ports {ports}",
        f"  PostgreSQL     {stack.postgres.dsn('postgres')}",
        f"  Kafka broker   {stack.bootstrap} ({'Tansu, in memory' if stack.on_tansu else 'Apache Kafka'})",
        "  Token:         make token",
        "Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def run(stack: DevStack) -> int:
    console.ensure_built(console.CONSOLE_DIR)
    stack.start()
    procfile = stack.config.data_dir / "Procfile.run"
    procfile.write_text("".join(f"{name}: {command}\n" for name, command in run_commands().items()))
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", str(procfile), "-d", str(ROOT), "--no-prefix"],
        env=stack.env(),
        cwd=ROOT,
    )
    print(_banner(stack), flush=True)

    def forward(signum: int, _frame: object) -> None:
        if honcho.poll() is None:
            honcho.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        code = honcho.wait()
    finally:
        if honcho.poll() is None:
            honcho.kill()
        stack.stop()
    print("CRM dev stack stopped.", flush=True)
    return 0 if code in (0, -signal.SIGINT, -signal.SIGTERM, 130, 143) else code


def main() -> int:
    parser = argparse.ArgumentParser(prog="crm_devstack")
    parser.add_argument("command", choices=["run", "infra"], help="run: everything; infra: PostgreSQL + broker only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s devstack %(message)s")
    stack = DevStack(StackConfig())
    if args.command == "run":
        return run(stack)
    stack.start()
    banner = _banner(stack, with_console=False)
    print(banner.replace("CRM dev stack is up", "Infrastructure is up (no services)"), flush=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
