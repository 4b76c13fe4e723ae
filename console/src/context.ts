import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { ApiClient } from "./lib/api";
import type { Session } from "./lib/auth";
import { getLocale, onLocaleChange, type Locale } from "./lib/i18n";
import { openLive, type SseEvent } from "./lib/sse";

export interface AppContext {
  session: Session;
  api: ApiClient;
}

export const Ctx = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const value = useContext(Ctx);
  if (!value) throw new Error("no app context");
  return value;
}

/** Re-renders the component when the language changes. */
export function useLocale(): Locale {
  const [locale, set] = useState(getLocale());
  useEffect(() => onLocaleChange(() => set(getLocale())), []);
  return locale;
}

/** A live stream while the component is on screen; `url` null = none. */
export type LiveState = "idle" | "connecting" | "open" | "closed";

export function useLive(url: string | null, onEvent: (event: SseEvent) => void): LiveState {
  const { session } = useApp();
  const [state, setState] = useState<LiveState>(url ? "connecting" : "idle");
  const onEventRef = useRefLatest(onEvent);
  useEffect(() => {
    if (!url) return undefined;
    return openLive({ url, token: () => session.token, onEvent: (e) => onEventRef.current(e), onState: setState });
  }, [url, session.token]);
  return state;
}

function useRefLatest<T>(value: T): { current: T } {
  const [ref] = useState(() => ({ current: value }));
  ref.current = value;
  return ref;
}

/** Loads data on mount and when `deps` change; `reload` to fetch again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
  set: (value: T | null | ((prev: T | null) => T | null)) => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((value) => live && (setData(value), setError(null)))
      .catch((e: Error) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, loading, reload: () => setTick((n) => n + 1), set: setData };
}

export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}
