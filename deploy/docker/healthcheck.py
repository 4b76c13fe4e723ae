"""HEALTHCHECK of the CRM images (stdlib only, so no curl in the image).

What runs is read from PID 1's command line (the HEALTHCHECK runs beside it, with the image's
environment, not the entrypoint's):

api (uvicorn): GET http://127.0.0.1:$CRM_PORT/healthz must answer 200. Liveness only; readiness
(database and broker reachable) is /readyz, for load balancers and Kubernetes, not restarts.

worker (<service>-worker): a process check: PID 1 must still be the service's worker and not
a zombie (its only HTTP is the optional metrics port, which answers from its own thread). A worker that is alive but stuck is invisible from
inside the container; consumer lag is the signal for that (KEDA and alerting watch it, see
docs/operations.md). migrate and other one-shot commands always pass.
"""

import os
import sys
import urllib.request


def _pid1() -> tuple[str, str]:
    with open("/proc/1/cmdline", "rb") as f:
        cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    with open("/proc/1/stat") as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    return cmdline, state


def main() -> int:
    service = os.environ.get("CRM_SERVICE", "")
    try:
        cmdline, state = _pid1()
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if "uvicorn" in cmdline:
        url = f"http://127.0.0.1:{os.environ.get('CRM_PORT', '8000')}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return 0 if response.status == 200 else 1
        except OSError as exc:
            print(f"unhealthy: {url}: {exc}", file=sys.stderr)
            return 1
    if f"{service}-worker" in cmdline:
        return 1 if state in ("Z", "X") else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
