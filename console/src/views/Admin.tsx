import { useEffect, useState } from "preact/hooks";
import { Badge, ErrorBox, Loading, Section, When } from "../components/common";
import { useApp, useLoad, useLocale } from "../context";
import { newKey, type ApiClient } from "../lib/api";
import { can } from "../lib/auth";
import { t, type MessageKey } from "../lib/i18n";
import type { Page } from "../lib/types";

const TABS = ["playbooks", "sla", "tiers", "scorecard", "templates", "webhooks"] as const;
type Tab = (typeof TABS)[number];

/** Settings that change behaviour: edited as JSON, validated by the API (422 names the field). */
export function Admin() {
  useLocale();
  const [tab, setTab] = useState<Tab>("playbooks");
  return (
    <div>
      <h1>{t("admin.title")}</h1>
      <div class="tabs" role="tablist" aria-label={t("admin.title")}>
        {TABS.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls="admin-panel"
            tabIndex={tab === name ? 0 : -1}
            onClick={() => setTab(name)}
            onKeyDown={(e) => {
              // Arrow keys move between tabs (the WAI-ARIA tabs pattern); Tab goes on to the panel.
              const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
              if (!step) return;
              const next = TABS[(TABS.indexOf(name) + step + TABS.length) % TABS.length];
              setTab(next);
              document.getElementById(`tab-${next}`)?.focus();
            }}
          >
            {t(`admin.${name}` as MessageKey)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="admin-panel" aria-labelledby={`tab-${tab}`}>
        {tab === "playbooks" && <Keyed list={(api) => api.get<{ items: Keyed[] }>("notifications", "/v1/playbooks")} service="notifications" base="/v1/playbooks" title={t("admin.playbooks")} strip={["key", "version", "builtin", "created_by", "created_at", "updated_at"]} />}
        {tab === "templates" && <Keyed list={(api) => api.get<{ items: Keyed[] }>("notifications", "/v1/message-templates")} service="notifications" base="/v1/message-templates" title={t("admin.templates")} strip={["key", "version", "updated_by", "updated_at"]} />}
        {tab === "sla" && (
          <JsonEditor
            title={t("admin.sla")}
            load={(api) => api.get<{ targets: unknown; version: number }>("feedback", "/v1/sla-policy")}
            pick={(d) => (d as { targets: unknown }).targets}
            save={(api, body, key) => api.request("feedback", "/v1/sla-policy", { method: "PUT", body, idempotencyKey: key })}
          />
        )}
        {tab === "tiers" && (
          <JsonEditor
            title={t("admin.tiers")}
            load={(api) => api.get<{ rules: unknown }>("contacts", "/v1/tier-rules")}
            pick={(d) => (d as { rules: unknown }).rules}
            save={(api, body, key) => api.request("contacts", "/v1/tier-rules", { method: "PUT", body, idempotencyKey: key })}
          />
        )}
        {tab === "scorecard" && <Scorecard />}
        {tab === "webhooks" && <Webhooks />}
      </div>
    </div>
  );
}

interface Keyed {
  key: string;
  version: number;
  [field: string]: unknown;
}

function strip(value: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !fields.includes(k)));
}

function Keyed(props: {
  list: (api: ApiClient) => Promise<{ items: Keyed[] }>;
  service: "notifications";
  base: string;
  title: string;
  strip: string[];
}) {
  const { api } = useApp();
  const items = useLoad(() => props.list(api), [props.base]);
  const [open, setOpen] = useState<string | null>(null);
  if (!items.data) return items.error ? <ErrorBox error={items.error} /> : <Loading />;
  return (
    <Section title={props.title} id="admin-list">
      <ul class="plain">
        {items.data!.items.map((item) => (
          <li key={item.key}>
            <button type="button" class="secondary" aria-expanded={open === item.key} onClick={() => setOpen(open === item.key ? null : item.key)}>
              {item.key}
            </button>{" "}
            <span class="muted">v{item.version}</span>
            {open === item.key && (
              <JsonEditor
                title={item.key}
                load={async () => item}
                pick={(d) => strip(d as Record<string, unknown>, props.strip)}
                save={(a, body, key) =>
                  a.request(props.service, `${props.base}/${encodeURIComponent(item.key)}`, { method: "PUT", body, idempotencyKey: key })
                }
                onSaved={items.reload}
              />
            )}
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** Shows a setting as JSON; Save PUTs the edited JSON (one Idempotency-Key per edit). */
function JsonEditor(props: {
  title: string;
  load: (api: ApiClient) => Promise<unknown>;
  pick: (data: unknown) => unknown;
  save: (api: ApiClient, body: unknown, key: string) => Promise<unknown>;
  onSaved?: (result: unknown) => void;
}) {
  const { api, session } = useApp();
  const data = useLoad(() => props.load(api), [props.title]);
  const [text, setText] = useState("");
  const [key, setKey] = useState(newKey);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (data.data) setText(JSON.stringify(props.pick(data.data), null, 2));
  }, [data.data]);
  if (!data.data) return data.error ? <ErrorBox error={data.error} /> : <Loading />;
  const id = `json-${props.title.replace(/\W+/g, "-")}`;
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const result = await props.save(api, JSON.parse(text), key);
      setKey(newKey());
      setSaved(true);
      props.onSaved?.(result);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <form class="json-editor" onSubmit={submit}>
      <label for={id}>{props.title}</label>
      <textarea id={id} class="json" value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} readOnly={!can(session, "admin")} />
      {can(session, "admin") && <button type="submit">{t("common.save")}</button>}
      {saved && (
        <p role="status" class="ok">
          {t("c360.saved")}
        </p>
      )}
      <ErrorBox error={error} />
    </form>
  );
}

interface Run {
  id: string;
  status: string;
  total: number;
  done: number;
  changed: number;
}

function Scorecard() {
  const { api } = useApp();
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!run || run.status === "done" || run.status === "failed" || run.status === "superseded") return undefined;
    const id = setTimeout(() => {
      api.get<Run>("scoring", `/v1/rescore-runs/${run.id}`).then(setRun, setError);
    }, 1000);
    return () => clearTimeout(id);
  }, [run]);
  const rescore = async () => {
    try {
      setRun(await api.post<Run>("scoring", "/v1/rescore-runs", {}));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Section
      title={t("admin.scorecard")}
      id="scorecard"
      actions={
        <button type="button" onClick={rescore}>
          {t("admin.rescore")}
        </button>
      }
    >
      {run && (
        <div>
          <progress max={run.total || 1} value={run.done} aria-label={t("admin.rescore")} />{" "}
          <span role="status">{t("admin.progress", { status: run.status, done: run.done, total: run.total })}</span>
        </div>
      )}
      <ErrorBox error={error} />
      <JsonEditor
        title="scorecard"
        load={(a) => a.get<{ config: Record<string, unknown>; comment: string | null }>("scoring", "/v1/scorecard")}
        pick={(d) => ({ ...(d as { config: Record<string, unknown> }).config, comment: null, rescore: false })}
        save={(a, body, key) => a.request("scoring", "/v1/scorecard", { method: "PUT", body, idempotencyKey: key })}
        onSaved={(result) => {
          const started = (result as { data?: { rescore_run?: Run | null } }).data?.rescore_run;
          if (started) setRun(started);
        }}
      />
    </Section>
  );
}

interface Webhook {
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  created_at: string;
}
interface Delivery {
  id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  created_at: string;
}

function Webhooks() {
  const { api, session } = useApp();
  const hooks = useLoad(
    () => (can(session, "webhooks:read") ? api.get<Page<Webhook>>("notifications", "/v1/webhooks") : Promise.resolve({ items: [], next_cursor: null })),
    [],
  );
  const [open, setOpen] = useState<string | null>(null);
  if (!hooks.data) return hooks.error ? <ErrorBox error={hooks.error} /> : <Loading />;
  return (
    <Section title={t("admin.webhooks")} id="webhooks">
      {hooks.data!.items.length === 0 && <p class="muted">{t("common.none")}</p>}
      <ul class="plain">
        {hooks.data!.items.map((hook) => (
          <li key={hook.id}>
            <button type="button" class="secondary" aria-expanded={open === hook.id} onClick={() => setOpen(open === hook.id ? null : hook.id)}>
              {hook.url}
            </button>{" "}
            <span class="muted small">{hook.event_types.join(", ")}</span>
            {open === hook.id && <Deliveries hook={hook.id} />}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Deliveries({ hook }: { hook: string }) {
  const { api, session } = useApp();
  const list = useLoad(() => api.get<Page<Delivery>>("notifications", `/v1/webhooks/${hook}/deliveries`, { limit: 50 }), [hook]);
  const [error, setError] = useState<unknown>(null);
  if (!list.data) return list.error ? <ErrorBox error={list.error} /> : <Loading />;
  const replay = async (id: string) => {
    try {
      await api.post("notifications", `/v1/webhooks/${hook}/deliveries/${id}/replay`, {});
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
    <table>
      <caption>{t("admin.deliveries")}</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Status</th>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">
            <span class="muted">{t("admin.replay")}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {list.data!.items.map((d) => (
          <tr key={d.id}>
            <td>{d.event_type}</td>
            <td>
              <Badge kind={d.status}>{d.status}</Badge> {d.last_status_code ?? ""}
            </td>
            <td>{d.attempts}</td>
            <td>
              <When iso={d.created_at} />
            </td>
            <td>
              {can(session, "webhooks:write") && (
                <button type="button" class="secondary" onClick={() => replay(d.id)}>
                  {t("admin.replay")}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    <ErrorBox error={error} />
    </>
  );
}
