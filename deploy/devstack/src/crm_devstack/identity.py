"""A small OpenID Connect identity provider for the dev stack and the tests.

What the services need from a real provider (Keycloak, Auth0, Entra ID...), and nothing more:

- `GET /.well-known/openid-configuration`: discovery (issuer, jwks_uri, token_endpoint);
- `GET /jwks`: the public RS256 keys, each with its `kid`; `rotate()` adds a new signing key
  and `remove(kid)` withdraws one, so key rotation can be exercised without restarting anything;
- `POST /token`: OAuth2 client credentials (`client_secret_basic` or `client_secret_post`), for
  the services' calls to each other: an RS256 access token with the client's scopes.

`issue()` signs a token directly (a user's token, for tests). It runs in a thread of the process
that starts the stack (`make run`'s devstack process, or the test session), on its own port.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from crm_shared.config import DEV_AUDIENCE
from crm_shared.contracts.scopes import SERVICE_SCOPES

# The dev stack's one client: every service uses it for its calls to the others.
DEV_CLIENT_ID = "crm-services"
DEV_CLIENT_SECRET = "dev-client-secret-change-me"  # dev only, like the dev token secret


@dataclass
class Client:
    secret: str
    scopes: tuple[str, ...]
    subject: str


@dataclass
class _Key:
    kid: str
    private: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass
class DevIdentityProvider:
    host: str = "127.0.0.1"
    port: int = 0
    audience: str = DEV_AUDIENCE
    token_ttl_seconds: int = 3600
    clients: dict[str, Client] = field(
        default_factory=lambda: {DEV_CLIENT_ID: Client(DEV_CLIENT_SECRET, SERVICE_SCOPES, "service:crm")}
    )
    _keys: list[_Key] = field(default_factory=list, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    token_requests: int = field(default=0, init=False)

    # -- keys ------------------------------------------------------------------------------

    def rotate(self) -> str:
        """A new signing key (published beside the old ones until they are removed); its kid."""
        key = _Key(uuid.uuid4().hex[:16], rsa.generate_private_key(public_exponent=65537, key_size=2048))
        with self._lock:
            self._keys.append(key)
        return key.kid

    def remove(self, kid: str) -> None:
        with self._lock:
            self._keys = [k for k in self._keys if k.kid != kid]

    @property
    def kids(self) -> list[str]:
        with self._lock:
            return [k.kid for k in self._keys]

    @property
    def signing_kid(self) -> str:
        return self.kids[-1]

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            return {"keys": [k.public_jwk() for k in self._keys]}

    # -- tokens ----------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    def issue(
        self,
        subject: str,
        scopes: tuple[str, ...],
        *,
        kid: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        ttl_seconds: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """An RS256 access token signed by key `kid` (the newest by default)."""
        with self._lock:
            key = next(k for k in reversed(self._keys) if kid is None or k.kid == kid)
        now = int(time.time())
        claims = {
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "sub": subject,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + (ttl_seconds or self.token_ttl_seconds),
            "jti": str(uuid.uuid4()),
            **(extra or {}),
        }
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})

    def _client_credentials(self, authorization: str | None, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        client = self.clients.get(client_id or "")
        if client is None or secret != client.secret:
            return 401, {"error": "invalid_client"}
        scopes = client.scopes
        if requested := form.get("scope"):
            scopes = tuple(s for s in requested.split() if s in client.scopes)
        self.token_requests += 1
        token = self.issue(client.subject, scopes, extra={"client_id": client_id})
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl_seconds,
            "scope": " ".join(scopes),
        }

    # -- server ----------------------------------------------------------------------------

    def start(self) -> None:
        if not self._keys:
            self.rotate()
        self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="dev-identity-provider", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "token_endpoint": f"{self.issuer}/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
        }


def _handler(provider: DevIdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/.well-known/openid-configuration":
                self._answer(200, provider.discovery())
            elif path == "/jwks":
                self._answer(200, provider.jwks())
            else:
                self._answer(404, {"error": "not_found"})

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/token":
                self._answer(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._answer(*provider._client_credentials(self.headers.get("Authorization"), form))

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the services log their calls
            pass

    return Handler
