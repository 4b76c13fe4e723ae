import { useEffect, useState } from "preact/hooks";
import { ErrorBox, Loading } from "../components/common";
import { t } from "../lib/i18n";
import { beginSignIn, completeSignIn, type OidcConfig } from "../lib/pkce";

export interface DevUser {
  subject: string;
  display_name: string;
  role: string;
  teams: string[];
}

/** The roles a demo user may sign in with (the server refuses other pairs). */
export function rolesOf(users: DevUser[], subject: string): string[] {
  return [...new Set(users.filter((u) => u.subject === subject).map((u) => u.role))];
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Dev: pick a user and a role, get a dev token. Production: OIDC authorization code + PKCE. */
export function SignIn({ onToken }: { onToken: (token: string) => void }) {
  const [config, setConfig] = useState<{ mode: "dev" } | OidcConfig | null>(null);
  const [users, setUsers] = useState<DevUser[]>([]);
  const [subject, setSubject] = useState("");
  const [role, setRole] = useState("agent");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    (async () => {
      const cfg = await json<{ mode: "dev" } | OidcConfig>(await fetch("/auth/config"));
      setConfig(cfg);
      if (cfg.mode === "dev") {
        const list = await json<DevUser[]>(await fetch("/auth/dev/users"));
        setUsers(list);
        if (list[0]) {
          setSubject(list[0].subject);
          setRole(list[0].role);
        }
      } else {
        const token = await completeSignIn(cfg, location.search);
        if (token) {
          history.replaceState(null, "", location.pathname + location.hash);
          onToken(token);
        }
      }
    })().catch(setError);
  }, []);

  const devSignIn = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const response = await fetch("/auth/dev/token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ subject, role }),
      });
      const body = await json<{ access_token: string }>(response);
      onToken(body.access_token);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <h1>{t("signin.title")}</h1>
      <ErrorBox error={error} />
      {!config && !error && <Loading />}
      {config?.mode === "oidc" && (
        <button type="button" onClick={() => beginSignIn(config, location.origin + location.pathname).catch(setError)}>
          {t("signin.oidc")}
        </button>
      )}
      {config?.mode === "dev" && (
        <form onSubmit={devSignIn} class="stack">
          <p class="muted">{t("signin.dev")}</p>
          <label>
            {t("signin.user")}
            <select
              name="subject"
              value={subject}
              onChange={(e) => {
                const value = (e.target as HTMLSelectElement).value;
                setSubject(value);
                const user = users.find((u) => u.subject === value);
                if (user) setRole(user.role);
              }}
            >
              {users.map((u) => (
                <option key={u.subject} value={u.subject}>
                  {u.display_name} ({u.subject}
                  {u.teams.length ? ` · ${u.teams.join(", ")}` : ""})
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("signin.role")}
            <select name="role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
              {rolesOf(users, subject).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={busy || !subject}>
            {t("signin.submit")}
          </button>
        </form>
      )}
    </main>
  );
}
