import { useApp, useLive, useLoad, useLocale } from "../context";
import { can } from "../lib/auth";
import { formatNumber, t } from "../lib/i18n";
import { formatPhone } from "../lib/phone";
import { sortQueue, upsertTask } from "../lib/queue";
import { OPEN_CASE, word } from "../lib/taxonomy";
import type { Customer, Feedback, Scores, Task } from "../lib/types";
import { Badge, ErrorBox, LiveDot, Loading, Section } from "./common";
import { TaskItem } from "./TaskItem";

export interface View360 {
  customer: Customer;
  recent_feedback: Feedback[] | null;
  scores: Scores | null;
  tasks: { open: Task[]; claimed: Task[]; recently_closed: Task[] } | null;
  missing: { part: string; reason: string }[];
}

/** The view with one task added or replaced, in the group its status puts it in. */
export function withTask(view: View360, task: Task): View360 {
  const all = [...(view.tasks?.open ?? []), ...(view.tasks?.claimed ?? []), ...(view.tasks?.recently_closed ?? [])];
  const merged = upsertTask(all, task, true);
  return {
    ...view,
    tasks: {
      open: merged.filter((x) => x.status === "open"),
      claimed: merged.filter((x) => x.status === "claimed"),
      recently_closed: merged.filter((x) => x.status === "done" || x.status === "cancelled"),
    },
  };
}

/** Live updates of one customer's tasks, scores and cases into a loaded 360 view. */
export function useCustomerLive(
  id: string,
  set: (f: (prev: View360 | null) => View360 | null) => void,
  reload: () => void,
) {
  const { session } = useApp();
  const q = `customer_id=${encodeURIComponent(id)}`;
  const apply = (change: (v: View360) => View360) => set((prev) => (prev ? change(prev) : prev));
  const tasks = useLive(can(session, "tasks:read") ? `/api/notifications/v1/live?${q}` : null, (event) => {
    if (event.event === "resync") reload();
    if (event.event !== "task") return;
    const task = JSON.parse(event.data) as Task;
    apply((v) => withTask(v, task));
  });
  const scores = useLive(can(session, "scores:read") ? `/api/scoring/v1/live?${q}` : null, (event) => {
    if (event.event === "resync") reload();
    if (event.event !== "score") return;
    const data = JSON.parse(event.data) as Scores & { scores?: Scores };
    apply((v) => ({ ...v, scores: data.scores ?? data }));
  });
  const cases = useLive(can(session, "feedback:read") ? `/api/feedback/v1/live?${q}` : null, (event) => {
    if (event.event === "resync") reload();
    if (event.event !== "case") return;
    const item = JSON.parse(event.data) as Feedback;
    apply((v) => ({ ...v, recent_feedback: [item, ...(v.recent_feedback ?? []).filter((f) => f.id !== item.id)] }));
  });
  const states = [tasks, scores, cases];
  if (states.every((s) => s === "open" || s === "idle")) return "open";
  return states.includes("closed") ? "closed" : "connecting";
}

/** The caller's card: tier, owner, band, open cases and open tasks, kept live. */
export function CustomerCard({ id }: { id: string }) {
  const { api } = useApp();
  const locale = useLocale();
  const view = useLoad(() => api.get<View360>("contacts", `/v1/customers/${id}/360`), [id]);
  const live = useCustomerLive(id, view.set, view.reload);
  if (!view.data) return view.error ? <ErrorBox error={view.error} /> : <Loading />;
  const v = view.data!;
  const c = v.customer;
  const openCases = (v.recent_feedback ?? []).filter((f) => f.type === "complaint" && OPEN_CASE.includes(f.status));
  const openTasks = sortQueue([...(v.tasks?.open ?? []), ...(v.tasks?.claimed ?? [])]);
  const onTask = (task: Task) => view.set((prev) => (prev ? withTask(prev, task) : prev));
  return (
    <Section title={c.name} id="customer-card" actions={<LiveDot state={live} />}>
      <dl class="facts">
        <dt>{t("card.tier")}</dt>
        <dd data-field="tier">{word(c.tier, locale)}</dd>
        <dt>{t("card.owner")}</dt>
        <dd data-field="owner">{c.owner ?? "–"}</dd>
        <dt>{t("card.band")}</dt>
        <dd data-field="band" data-health={v.scores?.health ?? ""}>
          {v.scores ? (
            <>
              <Badge kind={v.scores.band}>{word(v.scores.band, locale)}</Badge> {t("score.health")}{" "}
              {formatNumber(v.scores.health, 1)}
            </>
          ) : (
            "–"
          )}
        </dd>
        <dt>{t("desk.lead_phone")}</dt>
        <dd>{formatPhone(c.phone) || "–"}</dd>
        <dt>{t("card.open_cases")}</dt>
        <dd data-field="open-cases">{openCases.length}</dd>
        <dt>{t("card.open_tasks")}</dt>
        <dd data-field="open-tasks">{openTasks.length}</dd>
      </dl>
      {openCases.length > 0 && (
        <ul class="plain">
          {openCases.map((f) => (
            <li key={f.id}>
              <a href={`#/cases/${f.id}`}>
                {word(f.category, locale)} · {word(f.severity, locale)} · {word(f.status, locale)}
              </a>
            </li>
          ))}
        </ul>
      )}
      <ul class="tasks" aria-label={t("card.open_tasks")}>
        {openTasks.map((task) => (
          <TaskItem key={task.id} task={task} onChange={onTask} />
        ))}
      </ul>
      <p>
        <a href={`#/customers/${c.id}`}>{t("card.view360")}</a>
      </p>
    </Section>
  );
}
