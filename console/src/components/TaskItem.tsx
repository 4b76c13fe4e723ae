import { useState } from "preact/hooks";
import { useApp, useLocale } from "../context";
import { can } from "../lib/auth";
import { newKey } from "../lib/api";
import { t } from "../lib/i18n";
import { isOverdue } from "../lib/queue";
import { word } from "../lib/taxonomy";
import type { Task } from "../lib/types";
import { Badge, ErrorBox, When } from "./common";

/** One task with its actions: claim, complete with an outcome, cancel with a reason. */
export function TaskItem({ task, onChange }: { task: Task; onChange: (task: Task) => void }) {
  const { api, session } = useApp();
  const locale = useLocale();
  const [mode, setMode] = useState<"none" | "complete" | "cancel">("none");
  const [text, setText] = useState("");
  const [key, setKey] = useState(newKey);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const writable = can(session, "tasks:write") && (task.status === "open" || task.status === "claimed");

  const act = async (action: "claim" | "complete" | "cancel", body: unknown = {}) => {
    setBusy(true);
    setError(null);
    try {
      const updated = await api.post<Task>("notifications", `/v1/tasks/${task.id}/${action}`, body, key);
      setKey(newKey());
      setMode("none");
      setText("");
      onChange(updated);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const overdue = isOverdue(task, Date.now());
  return (
    <li class={`task task-${task.status}${overdue ? " overdue" : ""}`} data-task-id={task.id} data-status={task.status}>
      <div class="task-head">
        <strong>{task.title}</strong>
        <Badge kind={task.priority}>{word(task.priority, locale)}</Badge>
        {overdue && <Badge kind="danger">{t("task.overdue")}</Badge>}
        {task.escalation_level > 0 && <Badge kind="warn">{t("task.escalated", { level: task.escalation_level })}</Badge>}
      </div>
      <div class="muted small">
        {task.claimed_by ?? task.assignee}
        {task.team ? ` · ${task.team}` : ""} · {t("task.due", { at: "" })}
        <When iso={task.due_at} />
        {task.outcome && ` · ${task.outcome}`} ·{" "}
        <a href={`#/customers/${task.customer_id}`} aria-label={`${t("card.view360")}: ${task.title}`}>
          360
        </a>
      </div>
      {writable && mode === "none" && (
        <div class="actions">
          {task.status === "open" && (
            <button type="button" disabled={busy} onClick={() => act("claim")}>
              {t("task.claim")}
            </button>
          )}
          <button type="button" disabled={busy} onClick={() => setMode("complete")}>
            {t("task.complete")}
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => setMode("cancel")}>
            {t("task.cancel")}
          </button>
        </div>
      )}
      {mode !== "none" && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void act(mode, mode === "complete" ? { outcome: text } : { reason: text });
          }}
        >
          <label for={`outcome-${task.id}`}>{mode === "complete" ? t("task.outcome") : t("common.reason")}</label>
          <input id={`outcome-${task.id}`} required value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          <button type="submit" disabled={busy}>
            {mode === "complete" ? t("task.complete") : t("task.cancel")}
          </button>
          <button type="button" class="secondary" onClick={() => setMode("none")}>
            {t("common.cancel")}
          </button>
        </form>
      )}
      <ErrorBox error={error} />
    </li>
  );
}
