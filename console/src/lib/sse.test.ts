import { describe, expect, it } from "vitest";
import { SseParser, backoffDelay, openLive } from "./sse";

describe("SSE parser", () => {
  it("parses events split across chunks, with ids and multi-line data", () => {
    const parser = new SseParser();
    expect(parser.push("event: task\nid: 1\nda")).toEqual([]);
    expect(parser.push('ta: {"a":1}\n\n')).toEqual([{ event: "task", id: "1", data: '{"a":1}' }]);
    expect(parser.push("data: one\ndata: two\n\n")).toEqual([{ event: "message", id: "1", data: "one\ntwo" }]);
    expect(parser.lastEventId).toBe("1");
  });
  it("drops keepalive comments and handles CRLF line ends", () => {
    const parser = new SseParser();
    expect(parser.push(": keepalive\n\n")).toEqual([]);
    expect(parser.push("event: score\r\ndata: {}\r")).toEqual([]);
    expect(parser.push("\n\r\n")).toEqual([{ event: "score", id: null, data: "{}" }]);
  });
});

describe("live connection", () => {
  it("backs off exponentially up to 15 s", () => {
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    expect(backoffDelay(20, () => 1)).toBe(15000);
    expect(backoffDelay(0, () => 0)).toBe(400);
  });

  it("sends the bearer header, reconnects after the stream ends, resumes from the last id and asks for a re-read", async () => {
    const calls: Record<string, string>[] = [];
    const events: string[] = [];
    let stop = () => {};
    const body = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text));
          controller.close();
        },
      });
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      calls.push(init.headers as Record<string, string>);
      if (calls.length === 1) return new Response(body("event: task\nid: 7\ndata: {}\n\n"), { status: 200 });
      if (calls.length === 2) return new Response("", { status: 503 });
      stop();
      return new Response(body(""), { status: 200 });
    }) as typeof fetch;
    const delays: number[] = [];
    await new Promise<void>((resolve) => {
      stop = openLive({
        url: "/api/notifications/v1/live",
        token: () => "tok",
        onEvent: (e) => events.push(e.event),
        fetchImpl,
        sleep: async (ms) => {
          delays.push(ms);
          if (calls.length >= 3) resolve();
        },
        onState: (s) => s === "closed" && calls.length >= 3 && resolve(),
      });
    });
    expect(events).toEqual(["task", "resync"]);
    expect(calls[0].Authorization).toBe("Bearer tok");
    expect(calls[1]["Last-Event-ID"]).toBe("7");
    expect(delays.length).toBeGreaterThanOrEqual(2);
  });
});
