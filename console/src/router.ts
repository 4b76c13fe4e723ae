import { useEffect, useState } from "preact/hooks";

/** Hash routes: #/desk, #/customers/<id>, #/work, #/cases, #/dashboard, #/admin. */
export function parseRoute(hash: string): string[] {
  return hash.replace(/^#\/?/, "").split("?")[0].split("/").filter(Boolean).map(decodeURIComponent);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

export function go(path: string): void {
  location.hash = `#/${path}`;
}
