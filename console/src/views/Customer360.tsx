import { useState } from "preact/hooks";
import { LineChart, color } from "../components/Chart";
import { Badge, ErrorBox, LiveDot, Loading, Section, When } from "../components/common";
import { useCustomerLive, withTask, type View360 } from "../components/CustomerCard";
import { CaseSla } from "./Cases";
import { EditCard } from "../components/EditCard";
import { TaskItem } from "../components/TaskItem";
import { useApp, useLive, useLoad, useLocale } from "../context";
import { can } from "../lib/auth";
import { formatNumber, t, type MessageKey } from "../lib/i18n";
import { formatPhone } from "../lib/phone";
import { SCORE_NAMES, describeChange, feedbackFor } from "../lib/scores";
import { OPEN_CASE, word } from "../lib/taxonomy";
import type { Activity, Page, ScoreChange, Task } from "../lib/types";

interface Message {
  id: string;
  channel: string;
  template: string;
  subject: string;
  status: string;
  to_address: string | null;
  created_at?: string;
  sent_at?: string | null;
}

export function Customer360({ id }: { id: string }) {
  const { api, session } = useApp();
  const locale = useLocale();
  const view = useLoad(() => api.get<View360>("contacts", `/v1/customers/${id}/360`), [id]);
  const live = useCustomerLive(id, view.set, view.reload);
  const history = useLoad(
    () =>
      can(session, "scores:read")
        ? api.get<Page<ScoreChange>>("scoring", `/v1/scores/${id}/history`, { limit: 100 })
        : Promise.resolve({ items: [], next_cursor: null }),
    [id],
  );
  // A score change on screen also adds a point to the trend.
  useLive(can(session, "scores:read") ? `/api/scoring/v1/live?customer_id=${encodeURIComponent(id)}` : null, (e) => {
    if (e.event === "score" || e.event === "resync") history.reload();
  });
  const activities = useLoad(() => api.get<Page<Activity>>("contacts", `/v1/customers/${id}/activities`, { limit: 20 }), [id]);
  const messages = useLoad(
    () =>
      can(session, "tasks:read")
        ? api.get<Page<Message>>("notifications", "/v1/messages", { customer_id: id, limit: 20 })
        : Promise.resolve({ items: [], next_cursor: null }),
    [id],
  );
  const [editing, setEditing] = useState(false);

  if (!view.data) return view.error ? <ErrorBox error={view.error} /> : <Loading />;
  const v = view.data!;
  const c = v.customer;
  const changes = history.data?.items ?? [];
  const chronological = [...changes].reverse();
  const times = chronological.map((h) => Date.parse(h.computed_at) / 1000);
  const series = SCORE_NAMES.map((name, i) => ({
    label: t(`score.${name}` as MessageKey),
    color: color(i),
    values: chronological.map((h) => h[name] as number | null),
  }));
  const feedback = v.recent_feedback ?? [];
  const allTasks = [...(v.tasks?.open ?? []), ...(v.tasks?.claimed ?? []), ...(v.tasks?.recently_closed ?? [])];
  const onTask = (task: Task) => view.set((prev) => (prev ? withTask(prev, task) : prev));

  return (
    <div class="c360">
      <div class="title-row">
        <h1>{c.name}</h1>
        <LiveDot state={live} />
      </div>
      {v.missing.length > 0 && (
        <p role="status" class="warn">
          {t("c360.partial", { parts: v.missing.map((m) => `${m.part} (${m.reason})`).join(", ") })}
        </p>
      )}
      <div class="grid2">
        <Section
          title={t("c360.profile")}
          id="profile"
          actions={
            can(session, "contacts:write") && (
              <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
                {t("c360.edit")}
              </button>
            )
          }
        >
          <dl class="facts">
            <dt>{t("card.tier")}</dt>
            <dd>{word(c.tier, locale)}</dd>
            <dt>{t("card.owner")}</dt>
            <dd data-field="owner">{c.owner ?? "–"}</dd>
            <dt>{t("desk.lead_phone")}</dt>
            <dd>{formatPhone(c.phone) || "–"}</dd>
            <dt>{t("desk.lead_email")}</dt>
            <dd>{c.email ?? "–"}</dd>
            <dt>{t("field.region")}</dt>
            <dd data-field="region">{c.region ?? "–"}</dd>
            <dt>{t("field.industry")}</dt>
            <dd>{c.industry ?? "–"}</dd>
            <dt>{t("field.lifecycle")}</dt>
            <dd>{word(c.lifecycle_stage, locale)}</dd>
          </dl>
          {editing && (
            <EditCard
              customerId={c.id}
              onSaved={(customer) => {
                view.set((prev) => (prev ? { ...prev, customer } : prev));
                setEditing(false);
              }}
            />
          )}
        </Section>
        <Section title={t("c360.scores")} id="scores">
          {v.scores ? (
            <dl class="facts" data-health={v.scores.health}>
              <dt>{t("card.band")}</dt>
              <dd>
                <Badge kind={v.scores.band}>{word(v.scores.band, locale)}</Badge>
              </dd>
              {SCORE_NAMES.map((name) => (
                <>
                  <dt key={`${name}-t`}>{t(`score.${name}` as MessageKey)}</dt>
                  <dd key={`${name}-d`} data-score={name}>
                    {formatNumber(v.scores![name], 1)}
                  </dd>
                </>
              ))}
            </dl>
          ) : (
            <p class="muted">{t("common.none")}</p>
          )}
        </Section>
      </div>
      <Section title={t("c360.trend")} id="trend">
        {times.length > 0 ? (
          <LineChart title={t("c360.trend")} times={times} series={series} summary={changes[0] && describeChange(changes[0], locale)} />
        ) : (
          <p class="muted">{t("common.none")}</p>
        )}
        <h3>{t("c360.changes")}</h3>
        <ol class="changes">
          {changes.slice(0, 15).map((change) => {
            const cause = feedbackFor(change, feedback);
            // A task made by the same event names the cause exactly (scoring and notifications both keep its id).
            const sameCause = allTasks.filter((task) => task.cause_event_id === change.cause_event_id);
            return (
              <li key={change.id}>
                <When iso={change.computed_at} /> — {describeChange(change, locale)}
                {cause && (
                  <>
                    {" "}
                    (<a href={cause.type === "complaint" ? `#/cases/${cause.id}` : `#/customers/${id}`}>
                      {word(cause.type, locale)}: {cause.description.slice(0, 60)}
                    </a>
                    )
                  </>
                )}
                {sameCause.length > 0 && (
                  <span class="muted small">
                    {" "}
                    → {sameCause.map((task) => task.title).join("; ")}
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      </Section>
      <div class="grid2">
        <Section title={t("c360.tasks")} id="tasks">
          {(["open", "claimed", "recently_closed"] as const).map((group) => (
            <div key={group}>
              <h3>{t(group === "open" ? "task.open" : group === "claimed" ? "task.claimed" : "task.closed")}</h3>
              <ul class="tasks" data-group={group}>
                {(v.tasks?.[group] ?? []).map((task) => (
                  <TaskItem key={task.id} task={task} onChange={onTask} />
                ))}
              </ul>
            </div>
          ))}
        </Section>
        <Section title={t("c360.feedback")} id="feedback">
          <ul class="plain">
            {feedback.map((f) => (
              <li key={f.id}>
                <When iso={f.received_at} /> · <strong>{word(f.type, locale)}</strong> {f.category && `· ${word(f.category, locale)}`}{" "}
                {f.type === "complaint" && (
                  <a href={`#/cases/${f.id}`}>
                    <Badge kind={f.status}>{word(f.status, locale)}</Badge>
                  </a>
                )}{" "}
                {f.type === "complaint" && OPEN_CASE.includes(f.status) && <CaseSla key={`${f.id}-${f.status}`} id={f.id} />}
                <div class="small">{f.description}</div>
              </li>
            ))}
          </ul>
        </Section>
      </div>
      <div class="grid2">
        <Section title={t("c360.activities")} id="activities">
          {activities.error ? (
            <ErrorBox error={activities.error} />
          ) : (
            <ol class="plain">
              {(activities.data?.items ?? []).map((a) => (
                <li key={a.id}>
                  <When iso={a.occurred_at} /> · {word(String((a.details as { kind?: string })?.kind ?? ""), locale)}{" "}
                  <span class="muted small">{summary(a.details)}</span>
                </li>
              ))}
            </ol>
          )}
        </Section>
        <Section title={t("c360.messages")} id="messages">
          <ul class="plain">
            {(messages.data?.items ?? []).map((m) => (
              <li key={m.id}>
                <When iso={m.sent_at ?? m.created_at} /> · {m.channel} · {m.subject || m.template}{" "}
                <Badge kind={m.status}>{m.status}</Badge>
              </li>
            ))}
          </ul>
        </Section>
      </div>
    </div>
  );
}

function summary(details: unknown): string {
  if (!details || typeof details !== "object") return "";
  return Object.entries(details as Record<string, unknown>)
    .filter(([k, v]) => k !== "kind" && v !== null && typeof v !== "object")
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
}
