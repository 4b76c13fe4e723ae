#!/bin/sh
# Process selector of the CRM images: `api` (default), `worker`, `migrate`, or any command.
# exec keeps the process as PID 1, which is what the HEALTHCHECK (healthcheck.py) inspects.
set -eu
service="${CRM_SERVICE:?CRM_SERVICE is set by the image}"
case "${1:-api}" in
  api)
    shift || true
    # Same flags as deploy/Procfile, but bound to all interfaces on CRM_PORT (default 8000), and 20 s
    # for requests and open live streams to end on SIGTERM (within Kubernetes' 30 s grace period).
    exec uvicorn "${service}.main:create_app" --factory --host 0.0.0.0 --port "${CRM_PORT:-8000}" \
      --no-access-log --log-level warning --timeout-keep-alive 75 --timeout-graceful-shutdown 20 "$@"
    ;;
  worker)
    shift
    exec "${service}-worker" "$@"
    ;;
  migrate)
    shift
    exec alembic -c "/app/services/${service}/alembic.ini" upgrade head "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
