// One client for the four APIs behind the console server's proxy (/api/<service>/...).
// Writes carry an Idempotency-Key chosen once per user action: a retry after a network error or a
// 5xx/429 sends the same key, so the service records the action once.

export type Service = "contacts" | "feedback" | "scoring" | "notifications";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown> | null,
  ) {
    super(
      String(
        (problem && (problem.detail || problem.title)) ?? (status === 0 ? "network error" : `HTTP ${status}`),
      ),
    );
  }
}

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | string[] | null | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** For writes: one key per user action (reuse it for a retry of the same action). */
  idempotencyKey?: string;
  ifMatch?: string;
  /** Attempts in all (1 = no retry). Writes are retried only when they carry an idempotency key. */
  attempts?: number;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  etag: string | null;
}

export interface ClientDeps {
  fetchImpl?: typeof fetch;
  token?: () => string | null;
  sleep?: (ms: number) => Promise<void>;
  onUnauthorized?: () => void;
}

export function newKey(): string {
  return crypto.randomUUID();
}

export function buildUrl(service: Service, path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(name, v));
    else params.append(name, String(value));
  }
  const qs = params.toString();
  return `/api/${service}${path}${qs ? `?${qs}` : ""}`;
}

function retryable(status: number): boolean {
  return status === 0 || status === 429 || status === 502 || status === 503 || status === 504;
}

export class ApiClient {
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: ClientDeps = {}) {
    this.fetchImpl = deps.fetchImpl ?? fetch.bind(globalThis);
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async request<T>(service: Service, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const method = options.method ?? "GET";
    const safe = method === "GET" || method === "HEAD";
    const attempts = options.attempts ?? (safe || options.idempotencyKey ? 3 : 1);
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    const token = this.deps.token?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
    if (options.ifMatch) headers["If-Match"] = options.ifMatch;
    const url = buildUrl(service, path, options.query);
    let last: ApiError = new ApiError(0, null);
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.sleep(300 * 2 ** (attempt - 1));
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
        });
      } catch {
        last = new ApiError(0, null);
        continue;
      }
      const text = await response.text();
      let data: unknown = null;
      if (text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      }
      if (response.ok) return { status: response.status, data: data as T, etag: response.headers.get("ETag") };
      last = new ApiError(response.status, data && typeof data === "object" ? (data as Record<string, unknown>) : null);
      if (response.status === 401) this.deps.onUnauthorized?.();
      if (!retryable(response.status)) break;
    }
    throw last;
  }

  async get<T>(service: Service, path: string, query?: RequestOptions["query"]): Promise<T> {
    return (await this.request<T>(service, path, { query })).data;
  }

  async post<T>(service: Service, path: string, body: unknown, idempotencyKey: string = newKey()): Promise<T> {
    return (await this.request<T>(service, path, { method: "POST", body, idempotencyKey })).data;
  }
}
