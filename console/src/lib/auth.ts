// The signed-in user: the bearer token and what its claims allow (the UI hides what they can't use).

export interface Session {
  token: string;
  subject: string;
  scopes: string[];
  roles: string[];
  teams: string[];
  expiresAt: number | null;
}

const KEY = "crm.session.token";

export function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) throw new Error("not a JWT");
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") return value.split(/\s+/).filter(Boolean);
  return [];
}

export function sessionFrom(token: string): Session {
  const claims = decodeClaims(token);
  const roles = list(claims.roles);
  return {
    token,
    subject: String(claims.sub ?? ""),
    scopes: list(claims.scope ?? claims.scp ?? claims.permissions),
    roles: roles.length ? roles : ["integration"],
    teams: list(claims.teams),
    expiresAt: typeof claims.exp === "number" ? claims.exp * 1000 : null,
  };
}

/** `admin` implies every scope, as the APIs read it. */
export function can(session: Session | null, scope: string): boolean {
  if (!session) return false;
  return session.scopes.includes(scope) || session.scopes.includes("admin");
}

export function hasRole(session: Session | null, ...roles: string[]): boolean {
  return !!session && roles.some((r) => session.roles.includes(r));
}

export function loadSession(storage: Storage = sessionStorage, now = Date.now()): Session | null {
  const token = storage.getItem(KEY);
  if (!token) return null;
  try {
    const session = sessionFrom(token);
    if (session.expiresAt !== null && session.expiresAt <= now) {
      storage.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    storage.removeItem(KEY);
    return null;
  }
}

export function saveSession(token: string, storage: Storage = sessionStorage): Session {
  const session = sessionFrom(token);
  storage.setItem(KEY, token);
  return session;
}

export function clearSession(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}
