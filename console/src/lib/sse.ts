// Server-sent events over fetch (EventSource cannot send the bearer header): a parser of the
// text/event-stream format, and a connection that reconnects with backoff.

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/** Feeds chunks of the stream in, gets whole events out (comments and heartbeats are dropped). */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | null = null;
  lastEventId: string | null = null;

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return null;
      }
      const event = { event: this.event || "message", id: this.id, data: this.data.join("\n") };
      this.event = "";
      this.data = [];
      return event;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) {
      this.id = value;
      this.lastEventId = value;
    }
    return null;
  }
}

/** 0.5 s, 1 s, 2 s ... capped at 15 s, with up to 20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.2 * random()));
}

export interface LiveOptions {
  url: string;
  token: () => string | null;
  onEvent: (event: SseEvent) => void;
  onState?: (state: "connecting" | "open" | "closed") => void;
  fetchImpl?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Opens the stream and keeps it open until the returned function is called. After a reconnect it
 * hands on a `resync` event first: changes made while the stream was down were not sent, so the
 * view should read its list again.
 */
export function openLive(options: LiveOptions): () => void {
  const controller = new AbortController();
  const doFetch = options.fetchImpl ?? fetch.bind(globalThis);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let lastEventId: string | null = null;
  let connected = false;

  const run = async () => {
    let attempt = 0;
    while (!controller.signal.aborted) {
      options.onState?.("connecting");
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream" };
        const token = options.token();
        if (token) headers.Authorization = `Bearer ${token}`;
        if (lastEventId) headers["Last-Event-ID"] = lastEventId;
        const response = await doFetch(options.url, { headers, signal: controller.signal, cache: "no-store" });
        if (!response.ok || !response.body) throw new Error(`live stream answered ${response.status}`);
        options.onState?.("open");
        attempt = 0;
        if (connected) options.onEvent({ event: "resync", id: null, data: "{}" });
        connected = true;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) options.onEvent(event);
          lastEventId = parser.lastEventId ?? lastEventId;
        }
      } catch (error) {
        if (controller.signal.aborted) break;
      }
      options.onState?.("closed");
      if (controller.signal.aborted) break;
      await sleep(backoffDelay(attempt++));
    }
  };
  void run();
  return () => controller.abort();
}
