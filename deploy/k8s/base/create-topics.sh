#!/bin/sh
# Creates the CRM topics (idempotent) and converges their retention. Runs in the apache/kafka
# image: as the compose one-shot `kafka-topics` and as the Kubernetes Job `crm-topics`.
# The topic names are the code's (crm_shared.contracts.Topics and dead_letter_topic);
# tests/deploy/test_manifests.py checks this list against them.
#
# Settings (environment):
#   KAFKA_BOOTSTRAP_SERVERS   required, e.g. kafka:9092
#   TOPIC_PARTITIONS          event topics' partitions (default 6): the most worker replicas
#                             that get work per topic. Never lowered; raising it moves keys to
#                             other partitions (see docs/operations.md) so this script won't.
#   TOPIC_REPLICATION_FACTOR  default 1 (dev); 3 in production
#   TOPIC_MIN_INSYNC_REPLICAS default 1 (dev); 2 in production (producers use acks=all)
#   TOPIC_RETENTION_MS        event topics, default 7 days: also how long personal data in
#                             contact events outlives an erasure in Kafka
#   DLQ_RETENTION_MS          dead-letter topics, default 14 days: the time to inspect/replay
#   KAFKA_COMMAND_CONFIG      optional client properties file (SASL/TLS) for the admin tools
set -eu
: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
partitions="${TOPIC_PARTITIONS:-6}"
replication="${TOPIC_REPLICATION_FACTOR:-1}"
min_isr="${TOPIC_MIN_INSYNC_REPLICAS:-1}"
retention="${TOPIC_RETENTION_MS:-604800000}"
dlq_retention="${DLQ_RETENTION_MS:-1209600000}"
# Unquoted on purpose below: empty, or "--command-config <path without spaces>".
command_config=""
if [ -n "${KAFKA_COMMAND_CONFIG:-}" ] && [ -f "${KAFKA_COMMAND_CONFIG}" ]; then
  command_config="--command-config ${KAFKA_COMMAND_CONFIG}"
fi

EVENT_TOPICS="crm.contacts crm.feedback crm.scores crm.outreach"
# One dead-letter topic per consumer group (ConsumerSpec.name in services/*/events/handlers.py).
DLQ_TOPICS="crm.dlq.feedback-worker crm.dlq.feedback-cases crm.dlq.scoring-worker crm.dlq.scoring-indicators crm.dlq.notifications-worker crm.dlq.notifications-webhooks"

ensure() {  # name partitions retention_ms
  # shellcheck disable=SC2086
  "${KAFKA_BIN}/kafka-topics.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" ${command_config} \
    --create --if-not-exists --topic "$1" --partitions "$2" --replication-factor "${replication}" \
    --config cleanup.policy=delete --config retention.ms="$3" --config min.insync.replicas="${min_isr}"
  # --if-not-exists leaves an existing topic's settings alone: converge retention and min ISR.
  # shellcheck disable=SC2086
  "${KAFKA_BIN}/kafka-configs.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" ${command_config} \
    --alter --entity-type topics --entity-name "$1" \
    --add-config "retention.ms=$3,min.insync.replicas=${min_isr}"
}

for topic in ${EVENT_TOPICS}; do
  ensure "${topic}" "${partitions}" "${retention}"
done
# One partition: dead letters are rare and replayed in order by `crmctl dlq replay`.
for topic in ${DLQ_TOPICS}; do
  ensure "${topic}" 1 "${dlq_retention}"
done
echo "topics ready: ${EVENT_TOPICS} ${DLQ_TOPICS}"
