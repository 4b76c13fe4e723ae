// OAuth 2.0 authorization code + PKCE (RFC 7636) for production sign-in against the OIDC provider
// that GET /auth/config names.

export interface OidcConfig {
  mode: "oidc";
  issuer: string;
  client_id: string;
  scopes: string | string[];
}

const VERIFIER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** 64 unreserved characters from a CSPRNG (RFC 7636 asks for 43 to 128). */
export function createVerifier(length = 64): string {
  const random = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(random, (b) => VERIFIER_CHARS[b % VERIFIER_CHARS.length]).join("");
}

export async function challengeFor(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export function scopesOf(config: OidcConfig): string {
  const scopes = Array.isArray(config.scopes) ? config.scopes.join(" ") : config.scopes;
  return scopes.includes("openid") ? scopes : `openid ${scopes}`.trim();
}

export function authorizeUrl(
  authorizationEndpoint: string,
  config: OidcConfig,
  redirectUri: string,
  challenge: string,
  state: string,
): string {
  const url = new URL(authorizationEndpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", config.client_id);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("scope", scopesOf(config));
  url.searchParams.set("code_challenge", challenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  return url.toString();
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
  return (await response.json()) as Discovery;
}

const PENDING = "crm.pkce";

/** Sends the browser to the provider; the verifier waits in sessionStorage for the way back. */
export async function beginSignIn(config: OidcConfig, redirectUri: string): Promise<void> {
  const { authorization_endpoint } = await discover(config.issuer);
  const verifier = createVerifier();
  const state = createVerifier(32);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, redirectUri }));
  location.assign(authorizeUrl(authorization_endpoint, config, redirectUri, await challengeFor(verifier), state));
}

/** On the way back (?code=&state=): swaps the code for tokens; null when this is not a callback. */
export async function completeSignIn(config: OidcConfig, search: string): Promise<string | null> {
  const params = new URLSearchParams(search);
  const code = params.get("code");
  const pending = sessionStorage.getItem(PENDING);
  if (!code || !pending) return null;
  sessionStorage.removeItem(PENDING);
  const { verifier, state, redirectUri } = JSON.parse(pending) as { verifier: string; state: string; redirectUri: string };
  if (params.get("state") !== state) throw new Error("sign-in state does not match: start again");
  const { token_endpoint } = await discover(config.issuer);
  const response = await fetch(token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      client_id: config.client_id,
      code_verifier: verifier,
    }),
  });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const tokens = (await response.json()) as { access_token: string };
  return tokens.access_token;
}
