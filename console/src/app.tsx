import { useMemo, useState } from "preact/hooks";
import { Ctx, useLocale } from "./context";
import { ApiClient } from "./lib/api";
import { can, clearSession, hasRole, loadSession, saveSession, type Session } from "./lib/auth";
import { LOCALES, setLocale, t, type MessageKey } from "./lib/i18n";
import { useRoute } from "./router";
import { Admin } from "./views/Admin";
import { Cases } from "./views/Cases";
import { Customer360 } from "./views/Customer360";
import { Dashboard } from "./views/Dashboard";
import { Desk } from "./views/Desk";
import { SignIn } from "./views/SignIn";
import { Work } from "./views/Work";

interface NavItem {
  path: string;
  label: MessageKey;
  allowed: (s: Session) => boolean;
}

/** What the token's scopes and roles can use; the rest is not shown. */
export const NAV: NavItem[] = [
  { path: "desk", label: "nav.desk", allowed: (s) => can(s, "contacts:read") && can(s, "feedback:write") },
  { path: "work", label: "nav.work", allowed: (s) => can(s, "tasks:read") },
  { path: "cases", label: "nav.cases", allowed: (s) => can(s, "feedback:read") },
  { path: "dashboard", label: "nav.dashboard", allowed: (s) => can(s, "scores:read") && can(s, "feedback:read") },
  { path: "admin", label: "nav.admin", allowed: (s) => can(s, "admin") || hasRole(s, "admin") },
];

export function App() {
  const locale = useLocale();
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const route = useRoute();
  const api = useMemo(
    () =>
      new ApiClient({
        token: () => session?.token ?? null,
        onUnauthorized: () => {
          clearSession();
          setSession(null);
        },
      }),
    [session?.token],
  );

  const languageSwitch = (
    <label class="lang">
      {t("lang.label")}
      <select
        name="language"
        value={locale}
        onChange={(e) => setLocale((e.target as HTMLSelectElement).value as (typeof LOCALES)[number])}
      >
        <option value="en" lang="en">
          English
        </option>
        <option value="zh-CN" lang="zh-CN">
          简体中文
        </option>
      </select>
    </label>
  );

  if (!session) {
    return (
      <div class="shell">
        <header class="top" role="banner">
          <span class="brand">{t("app.title")}</span>
          {languageSwitch}
        </header>
        <SignIn onToken={(token) => setSession(saveSession(token))} />
      </div>
    );
  }

  const items = NAV.filter((item) => item.allowed(session));
  const [page, ...rest] = route.length ? route : [items[0]?.path ?? "desk"];
  let view;
  if (page === "customers" && rest[0]) view = <Customer360 id={rest[0]} />;
  else if (page === "work" && can(session, "tasks:read")) view = <Work />;
  else if (page === "cases" && can(session, "feedback:read")) view = <Cases focus={rest[0]} />;
  else if (page === "dashboard") view = <Dashboard />;
  else if (page === "admin" && items.some((i) => i.path === "admin")) view = <Admin />;
  else if (page === "desk" && items.some((i) => i.path === "desk")) view = <Desk />;
  else if (items[0]?.path === "work") view = <Work />;
  else if (items[0]?.path === "cases") view = <Cases />;
  else if (items[0]?.path === "dashboard") view = <Dashboard />;
  else view = <Desk />;

  return (
    <Ctx.Provider value={{ session, api }}>
      <div class="shell" key={locale}>
        <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
          {t("app.skip")}
        </a>
        <header class="top" role="banner">
          <span class="brand">{t("app.title")}</span>
          <nav aria-label={t("nav.main")}>
            <ul>
              {items.map((item) => (
                <li key={item.path}>
                  <a href={`#/${item.path}`} aria-current={page === item.path ? "page" : undefined}>
                    {t(item.label)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {languageSwitch}
          <span class="who">{t("signin.as", { user: session.subject, role: session.roles.join(", ") })}</span>
          <button
            type="button"
            class="link"
            onClick={() => {
              clearSession();
              setSession(null);
            }}
          >
            {t("signin.out")}
          </button>
        </header>
        <main id="main" tabIndex={-1}>
          {view}
        </main>
      </div>
    </Ctx.Provider>
  );
}
