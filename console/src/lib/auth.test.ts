import { describe, expect, it } from "vitest";
import { can, hasRole, loadSession, saveSession, sessionFrom } from "./auth";

function token(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${enc({ alg: "HS256" })}.${enc(claims)}.sig`;
}

describe("session", () => {
  it("reads scopes, roles and teams from the token", () => {
    const s = sessionFrom(token({ sub: "alice", scope: "contacts:read tasks:read", roles: ["agent"], teams: ["desk"] }));
    expect(s.subject).toBe("alice");
    expect(can(s, "tasks:read")).toBe(true);
    expect(can(s, "tasks:write")).toBe(false);
    expect(hasRole(s, "agent")).toBe(true);
    expect(s.teams).toEqual(["desk"]);
  });
  it("lets admin use everything and treats a token without roles as integration", () => {
    const s = sessionFrom(token({ sub: "root", scope: "admin" }));
    expect(can(s, "webhooks:write")).toBe(true);
    expect(s.roles).toEqual(["integration"]);
  });
  it("forgets an expired token", () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    } as Storage;
    saveSession(token({ sub: "a", scope: "x", exp: 100 }), storage);
    expect(loadSession(storage, 99_000)?.subject).toBe("a");
    expect(loadSession(storage, 100_000)).toBeNull();
    expect(store.size).toBe(0);
  });
});
