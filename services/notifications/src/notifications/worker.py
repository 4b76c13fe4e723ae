"""The notifications worker: runs the playbooks on feedback, score and contact events, escalates
overdue tasks at their deadline, makes contract renewal tasks, sends messages and webhook deliveries, relays the outbox."""

from crm_shared.worker import Background, run_worker
from notifications.automation.engine import playbook_watch
from notifications.config import Settings
from notifications.delivery.runner import delivery_runner
from notifications.escalation.timer import escalation_timer
from notifications.events.handlers import consumers
from notifications.keyaccounts.runner import key_account_check
from notifications.outbound import sealing
from notifications.renewals.timer import renewal_timer
from notifications.webhooks.watch import subscription_watch


def background() -> list[Background]:
    return [escalation_timer, renewal_timer, key_account_check, delivery_runner, subscription_watch, playbook_watch]


def settings() -> Settings:
    checked = Settings()
    sealing.sealer(checked)  # without its key in production, refuse to start rather than fail each webhook
    return checked


def main() -> None:
    run_worker(settings, consumers, background)
