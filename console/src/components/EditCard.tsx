import { useState } from "preact/hooks";
import { useApp, useLoad } from "../context";
import { ApiError, newKey } from "../lib/api";
import { formatDateTime, t, type MessageKey } from "../lib/i18n";
import type { Customer, Page } from "../lib/types";
import { ErrorBox, Loading } from "./common";

export interface AuditEntry {
  actor: string;
  action: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  at: string;
}

/** The changes to the card made after the version the form was opened on (not activities). */
export function changesSince(entries: AuditEntry[], readUpdatedAt: string): AuditEntry[] {
  const card = entries.filter((e) => !e.action.startsWith("activity") && e.action !== "created");
  const newer = card.filter((e) => Date.parse(e.at) > Date.parse(readUpdatedAt));
  return newer.length ? newer : card.slice(0, 1);
}

function show(value: unknown): string {
  if (value === null || value === undefined || value === "") return "–";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

const FIELDS = ["name", "email", "phone", "owner", "region", "industry"] as const;

/**
 * Edits the card with If-Match = the ETag read when the form opened. A 412 (someone saved meanwhile)
 * shows who changed what, from the contacts audit trail, and offers their version to edit again.
 */
export function EditCard({ customerId, onSaved }: { customerId: string; onSaved: (c: Customer) => void }) {
  const { api } = useApp();
  const loaded = useLoad(async () => {
    const res = await api.request<Customer>("contacts", `/v1/customers/${customerId}`);
    return { customer: res.data, etag: res.etag ?? `"${res.data.version}"` };
  }, [customerId]);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [key, setKey] = useState(newKey);
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<AuditEntry[] | null>(null);
  const [busy, setBusy] = useState(false);

  // Also while their version reloads after a conflict: never an edit on top of the stale values.
  if (loaded.loading || !loaded.data) return loaded.error ? <ErrorBox error={loaded.error} /> : <Loading />;
  const { customer, etag } = loaded.data!;

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const patch: Record<string, string | null> = {};
    for (const [field, value] of Object.entries(draft)) {
      if (value !== ((customer as unknown as Record<string, unknown>)[field] ?? "")) patch[field] = value === "" ? null : value;
    }
    try {
      const res = await api.request<Customer>("contacts", `/v1/customers/${customerId}`, {
        method: "PATCH",
        body: patch,
        ifMatch: etag,
        idempotencyKey: key,
      });
      setKey(newKey());
      onSaved(res.data);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        const audit = await api.get<Page<AuditEntry>>("contacts", `/v1/customers/${customerId}/audit`, { limit: 20 });
        setConflict(changesSince(audit.items, customer.updated_at));
      } else setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (conflict) {
    return (
      <div class="conflict" role="alert" data-conflict="true">
        <p>
          <strong>{t("c360.conflict")}</strong>
        </p>
        <ul>
          {conflict.map((entry, i) => (
            <li key={i}>
              {t("c360.conflict_who", {
                actor: entry.actor,
                fields: Object.entries(entry.changes)
                  .map(([f, c]) => `${f}: ${show(c?.from)} → ${show(c?.to)}`)
                  .join("; "),
                at: formatDateTime(entry.at),
              })}
            </li>
          ))}
        </ul>
        <button
          type="button"
          onClick={() => {
            // Drop the stale copy first, so nothing can be edited on it while theirs loads.
            loaded.set(null);
            setConflict(null);
            setDraft({});
            loaded.reload();
          }}
        >
          {t("c360.reload")}
        </button>
      </div>
    );
  }

  return (
    <form class="stack" onSubmit={save} aria-label={t("c360.edit")}>
      {FIELDS.map((field) => (
        <label key={field}>
          {t(`field.${field}` as MessageKey)}
          <input
            name={field}
            value={draft[field] ?? String((customer as unknown as Record<string, unknown>)[field] ?? "")}
            onInput={(e) => setDraft({ ...draft, [field]: (e.target as HTMLInputElement).value })}
          />
        </label>
      ))}
      <button type="submit" disabled={busy}>
        {t("common.save")}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
