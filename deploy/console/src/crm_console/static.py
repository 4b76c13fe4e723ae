"""console/dist: files as they are, any other page path -> index.html (the app routes it)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from crm_console.settings import ConsoleSettings
from crm_shared.http.problems import problem

# Vite names every built asset by its content hash: it never changes, so browsers keep it.
_IMMUTABLE = "public, max-age=31536000, immutable"
_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM console (not built)</title></head>
<body><main><h1>The CRM console is not built yet</h1>
<p>The console server is running, but <code>{dist}</code> has no <code>index.html</code>.</p>
<p>Build it with <code>cd console &amp;&amp; npm ci &amp;&amp; npm run build</code>
(<code>make run</code> does this when <code>console/</code> exists and npm is installed),
then reload this page. The apis are reachable meanwhile under <code>/api/&lt;service&gt;/</code>.</p>
</main></body></html>
"""


def _file_in(dist: Path, path: str) -> Path | None:
    """The file `path` names inside dist, never outside it (no `..` escapes)."""
    if not path:
        return None
    candidate = (dist / path).resolve()
    if dist.resolve() not in candidate.parents or not candidate.is_file():
        return None
    return candidate


async def spa(request: Request) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    dist = settings.dist
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(_PLACEHOLDER.format(dist=dist), status_code=503, headers={"Cache-Control": "no-store"})
    path = request.path_params.get("path", "")
    if path.split("/", 1)[0] in ("api", "auth"):  # not a page of the app: a mistyped api path
        return problem(request, 404, "Not Found", f"No route /{path}; the apis are under /api/<service>/.")
    found = _file_in(dist, path)
    if found is not None:
        hashed = path.startswith("assets/")
        return FileResponse(found, headers={"Cache-Control": _IMMUTABLE if hashed else "no-cache"})
    if path.startswith("assets/") or Path(path).suffix in {".js", ".css", ".map", ".png", ".svg", ".ico", ".woff2"}:
        return Response("Not found", status_code=404, media_type="text/plain")
    return FileResponse(index, headers={"Cache-Control": "no-cache"})
