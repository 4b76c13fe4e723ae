"""`python -m crm_console` (or `crm-console`): the console server on CRM_CONSOLE_HOST:CRM_CONSOLE_PORT."""

from __future__ import annotations

import uvicorn

from crm_console.app import create_app
from crm_console.settings import ConsoleSettings


def main() -> None:
    settings = ConsoleSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    main()
