import { describe, expect, it } from "vitest";
import { authorizeUrl, base64url, challengeFor, createVerifier, scopesOf } from "./pkce";

describe("PKCE", () => {
  it("derives the S256 challenge of RFC 7636's example", async () => {
    expect(await challengeFor("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });
  it("makes verifiers of unreserved characters, different each time", () => {
    const a = createVerifier();
    expect(a).toMatch(/^[A-Za-z0-9\-._~]{64}$/);
    expect(createVerifier()).not.toBe(a);
    expect(base64url(new Uint8Array([251, 255]))).toBe("-_8");
  });
  it("builds the authorization request with the challenge and openid scope", () => {
    const url = new URL(
      authorizeUrl(
        "https://id.example/authorize",
        { mode: "oidc", issuer: "https://id.example", client_id: "console", scopes: "contacts:read tasks:read" },
        "https://crm.example/",
        "CHALLENGE",
        "STATE",
      ),
    );
    expect(url.searchParams.get("code_challenge")).toBe("CHALLENGE");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("scope")).toBe("openid contacts:read tasks:read");
    expect(scopesOf({ mode: "oidc", issuer: "", client_id: "", scopes: ["openid", "x"] })).toBe("openid x");
  });
});
