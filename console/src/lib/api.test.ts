import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, buildUrl } from "./api";

function recorder(responses: (() => Response)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (!next) throw new Error("no more responses");
    return next();
  }) as typeof fetch;
  return { calls, fetchImpl };
}

const sleep = async () => {};

describe("API client", () => {
  it("retries a write after a network error and a 503 with the same Idempotency-Key", async () => {
    const { calls, fetchImpl } = recorder([
      () => {
        throw new TypeError("network down");
      },
      () => new Response(JSON.stringify({ title: "busy" }), { status: 503 }),
      () => new Response(JSON.stringify({ id: "f1" }), { status: 201 }),
    ]);
    const client = new ApiClient({ fetchImpl, sleep, token: () => "tok" });
    const result = await client.post<{ id: string }>("feedback", "/v1/feedback", { type: "complaint" }, "key-1");
    expect(result.id).toBe("f1");
    expect(calls).toHaveLength(3);
    const keys = calls.map((c) => (c.init.headers as Record<string, string>)["Idempotency-Key"]);
    expect(keys).toEqual(["key-1", "key-1", "key-1"]);
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe("Bearer tok");
    expect(calls[0].url).toBe("/api/feedback/v1/feedback");
  });

  it("does not retry a 422 and reports the problem detail", async () => {
    const { calls, fetchImpl } = recorder([
      () => new Response(JSON.stringify({ title: "Invalid", detail: "severity is required" }), { status: 422 }),
    ]);
    const client = new ApiClient({ fetchImpl, sleep });
    const error = (await client.post("feedback", "/v1/feedback", {}, "k").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.message).toBe("severity is required");
    expect(calls).toHaveLength(1);
  });

  it("never retries a write without a key", async () => {
    const { calls, fetchImpl } = recorder([() => new Response("", { status: 503 })]);
    const client = new ApiClient({ fetchImpl, sleep });
    await expect(client.request("contacts", "/v1/x", { method: "POST", body: {} })).rejects.toBeInstanceOf(ApiError);
    expect(calls).toHaveLength(1);
  });

  it("sends If-Match and returns the ETag", async () => {
    const { calls, fetchImpl } = recorder([
      () => new Response(JSON.stringify({ version: 4 }), { status: 200, headers: { ETag: '"4"' } }),
    ]);
    const client = new ApiClient({ fetchImpl, sleep });
    const res = await client.request("contacts", "/v1/customers/1", { method: "PATCH", body: {}, ifMatch: '"3"' });
    expect(res.etag).toBe('"4"');
    expect((calls[0].init.headers as Record<string, string>)["If-Match"]).toBe('"3"');
  });

  it("builds query strings with repeated parameters and no empty ones", () => {
    expect(buildUrl("notifications", "/v1/tasks", { status: ["open", "claimed"], assignee: "", limit: 5 })).toBe(
      "/api/notifications/v1/tasks?status=open&status=claimed&limit=5",
    );
  });
});
