import { useState } from "preact/hooks";
import { Badge, ErrorBox, LiveDot, Loading, Section, When } from "../components/common";
import { useApp, useLive, useLoad, useLocale, useNow } from "../context";
import { newKey } from "../lib/api";
import { can } from "../lib/auth";
import { formatDuration, t } from "../lib/i18n";
import { urgentClock, type ClockView } from "../lib/sla";
import { OPEN_CASE, word } from "../lib/taxonomy";
import type { Feedback, Page, SlaClock } from "../lib/types";

interface History {
  status: string;
  allowed_next: string[];
  items: { from_status: string | null; to_status: string; reopened: boolean; changed_by: string; changed_at: string; reason: string | null }[];
}

export function Countdown({ view }: { view: ClockView | null }) {
  const locale = useLocale();
  if (!view) return <span class="muted">–</span>;
  const label = word(view.clock, locale);
  if (view.state === "met") return <Badge kind="met">{`${label}: ${t("cases.met")}`}</Badge>;
  if (view.state === "paused") return <Badge kind="paused">{`${label}: ${t("cases.paused")}`}</Badge>;
  const late = view.state === "late" || view.state === "breached";
  return (
    <span class={`countdown ${late ? "error" : ""}`} data-sla={view.state}>
      {label}: {late ? t("cases.late_by", { time: formatDuration(view.remaining) }) : t("cases.due_in", { time: formatDuration(view.remaining) })}
    </span>
  );
}

/** An open case's SLA state, counting down (for lists outside this page). */
export function CaseSla({ id }: { id: string }) {
  const { api } = useApp();
  const now = useNow(1000);
  const sla = useLoad(() => api.get<{ clocks: SlaClock[] }>("feedback", `/v1/feedback/${id}/sla`), [id]);
  if (!sla.data) return null;
  return <Countdown view={urgentClock(sla.data.clocks, now)} />;
}

/** Complaint cases with live SLA countdowns; open one for its history, notes and next moves. */
export function Cases({ focus }: { focus?: string }) {
  const { api, session } = useApp();
  const locale = useLocale();
  const now = useNow(1000);
  const rows = useLoad(async () => {
    const page = await api.get<Page<Feedback>>("feedback", "/v1/feedback", { type: "complaint", limit: 50 });
    return Promise.all(
      page.items.map(async (feedback) => ({
        feedback,
        clocks: OPEN_CASE.includes(feedback.status)
          ? (await api.get<{ clocks: SlaClock[] }>("feedback", `/v1/feedback/${feedback.id}/sla`).catch(() => ({ clocks: [] }))).clocks
          : [],
      })),
    );
  }, []);
  const live = useLive("/api/feedback/v1/live", (event) => {
    if (event.event === "resync") rows.reload();
    if (event.event !== "case") return;
    const item = JSON.parse(event.data) as Feedback;
    if (item.type !== "complaint") return;
    void api
      .get<{ clocks: SlaClock[] }>("feedback", `/v1/feedback/${item.id}/sla`)
      .catch(() => ({ clocks: [] }))
      .then(({ clocks }) =>
        rows.set((prev) => [{ feedback: item, clocks }, ...(prev ?? []).filter((r) => r.feedback.id !== item.id)]),
      );
  });

  return (
    <div>
      <div class="title-row">
        <h1>{t("cases.title")}</h1>
        <LiveDot state={live} />
      </div>
      {focus && <CaseDetail id={focus} onChange={() => rows.reload()} canWrite={can(session, "feedback:write")} />}
      {rows.loading && !rows.data && <Loading />}
      <ErrorBox error={rows.error} />
      {rows.data && (
        <Section title={t("cases.title")} id="case-list">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("fb.category")}</th>
                <th scope="col">{t("fb.severity")}</th>
                <th scope="col">{t("card.tier")}</th>
                <th scope="col">{t("field.status")}</th>
                <th scope="col">{t("cases.sla")}</th>
                <th scope="col">{t("fb.description")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.data.map(({ feedback: f, clocks }) => (
                <tr key={f.id} data-case-id={f.id}>
                  <td>
                    <a href={`#/cases/${f.id}`}>{word(f.category, locale)}</a>
                  </td>
                  <td>
                    <Badge kind={f.severity}>{word(f.severity, locale)}</Badge>
                  </td>
                  <td>{word(f.customer_tier, locale)}</td>
                  <td>
                    <Badge kind={f.status}>{word(f.status, locale)}</Badge>
                  </td>
                  <td>
                    <Countdown view={urgentClock(clocks, now)} />
                  </td>
                  <td class="small">
                    {f.description.slice(0, 80)}
                    {f.customer_id && (
                      <>
                        {" "}
                        <a href={`#/customers/${f.customer_id}`} aria-label={`${t("card.view360")}: ${f.description.slice(0, 30)}`}>
                          360
                        </a>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </div>
  );
}

type CauseCode = { code: string; label: string; active: boolean };

function CaseDetail({ id, onChange, canWrite }: { id: string; onChange: () => void; canWrite: boolean }) {
  const { api } = useApp();
  const locale = useLocale();
  const now = useNow(1000);
  const data = useLoad(async () => {
    const [feedback, history, notes, sla, causes] = await Promise.all([
      api.get<Feedback>("feedback", `/v1/feedback/${id}`),
      api.get<History>("feedback", `/v1/feedback/${id}/history`),
      api.get<{ items: { id: string; text: string; author: string; created_at: string }[] }>("feedback", `/v1/feedback/${id}/notes`),
      api.get<{ clocks: SlaClock[] }>("feedback", `/v1/feedback/${id}/sla`).catch(() => ({ clocks: [] as SlaClock[] })),
      // Resolving a complaint names its cause (the taxonomy admins keep) and the remedy.
      api.get<{ items: CauseCode[] }>("feedback", "/v1/cause-codes").catch(() => ({ items: [] as CauseCode[] })),
    ]);
    const surveys = feedback.customer_id
      ? (
          await api.get<Page<Feedback>>("feedback", "/v1/feedback", {
            customer_id: feedback.customer_id,
            type: "survey_response",
            limit: 50,
          })
        ).items.filter((s) => s.related_feedback_id === id)
      : [];
    return { feedback, history, notes: notes.items, clocks: sla.clocks, surveys, causes: causes.items };
  }, [id]);
  useLive(`/api/feedback/v1/live`, (event) => {
    if (event.event === "resync" || (event.event === "case" && (JSON.parse(event.data) as Feedback).id === id)) data.reload();
  });
  const [to, setTo] = useState("");
  const [reason, setReason] = useState("");
  const [cause, setCause] = useState("");
  const [remedy, setRemedy] = useState("");
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [note, setNote] = useState("");
  const [pauseReason, setPauseReason] = useState("");
  const [key, setKey] = useState(newKey);
  const [error, setError] = useState<unknown>(null);

  if (!data.data) return data.error ? <ErrorBox error={data.error} /> : <Loading />;
  const d = data.data!;
  const reopening = ["resolved", "closed"].includes(d.history.status);
  const target = to || d.history.allowed_next[0];
  const resolving = target === "resolved" && d.feedback.type === "complaint";

  const move = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const resolution = resolving
        ? { cause_code: cause || undefined, remedy: remedy || undefined, compensation: amount ? { amount, currency } : undefined }
        : undefined;
      await api.post("feedback", `/v1/feedback/${id}/transitions`, { to: target, reason: reason || undefined, resolution }, key);
      setKey(newKey());
      setReason("");
      setTo("");
      setCause("");
      setRemedy("");
      setAmount("");
      data.reload();
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  const running = d.clocks.some((c) => c.status === "running");
  const paused = d.clocks.some((c) => c.status === "paused");
  const pauseOrResume = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await api.post("feedback", `/v1/feedback/${id}/sla/${paused ? "resume" : "pause"}`, paused ? {} : { reason: pauseReason }, key);
      setKey(newKey());
      setPauseReason("");
      data.reload();
    } catch (e) {
      setError(e);
    }
  };
  const addNote = async (event: Event) => {
    event.preventDefault();
    try {
      await api.post("feedback", `/v1/feedback/${id}/notes`, { text: note }, key);
      setKey(newKey());
      setNote("");
      data.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Section title={`${word(d.feedback.category, locale)} — ${word(d.history.status, locale)}`} id="case-detail">
      <p>{d.feedback.description}</p>
      <ul class="plain">
        {d.clocks.map((c) => (
          <li key={c.clock}>
            <Countdown view={urgentClock([c], now)} />
          </li>
        ))}
      </ul>
      {canWrite && (running || paused) && (
        <form class="inline" onSubmit={pauseOrResume}>
          {!paused && (
            <>
              <label for="sla-reason">{t("cases.pause_reason")}</label>
              <input id="sla-reason" required value={pauseReason} onInput={(e) => setPauseReason((e.target as HTMLInputElement).value)} />
            </>
          )}
          <button type="submit" class="secondary">
            {paused ? t("cases.resume") : t("cases.pause")}
          </button>
        </form>
      )}
      {d.surveys.length > 0 && (
        <ul class="plain" aria-label={t("cases.surveys")}>
          {d.surveys.map((s) => (
            <li key={s.id}>
              <When iso={s.received_at} /> · {s.survey?.metric.toUpperCase()} {s.survey?.score}
            </li>
          ))}
        </ul>
      )}
      <h3>{t("cases.history")}</h3>
      <ol class="plain">
        {d.history.items.map((h, i) => (
          <li key={i}>
            <When iso={h.changed_at} /> · {h.from_status ? word(h.from_status, locale) : "–"} → {word(h.to_status, locale)}{" "}
            {h.reopened && <Badge kind="warn">{t("cases.reopened")}</Badge>} · {h.changed_by}
            {h.reason && <span class="muted"> — {h.reason}</span>}
          </li>
        ))}
      </ol>
      {canWrite && d.history.allowed_next.length > 0 && (
        <form class="inline" onSubmit={move}>
          <label for="case-to">{reopening ? t("cases.reopen") : t("cases.move")}</label>
          <select id="case-to" value={to || d.history.allowed_next[0]} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
            {d.history.allowed_next.map((s) => (
              <option key={s} value={s}>
                {word(s, locale)}
              </option>
            ))}
          </select>
          <label for="case-reason">{t("common.reason")}</label>
          <input id="case-reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
          {resolving && (
            <>
              <label for="case-cause">{t("cases.cause")}</label>
              <select id="case-cause" required value={cause} onChange={(e) => setCause((e.target as HTMLSelectElement).value)}>
                <option value="">–</option>
                {d.causes
                  .filter((c) => c.active)
                  .map((c) => (
                    <option key={c.code} value={c.code}>
                      {c.label}
                    </option>
                  ))}
              </select>
              <label for="case-remedy">{t("cases.remedy")}</label>
              <input id="case-remedy" required value={remedy} onInput={(e) => setRemedy((e.target as HTMLInputElement).value)} />
              <label for="case-compensation">{t("cases.compensation")}</label>
              <input
                id="case-compensation"
                inputMode="decimal"
                pattern="[0-9]+([.][0-9]{1,2})?"
                value={amount}
                onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
              />
              <label for="case-currency">{t("cases.currency")}</label>
              <input
                id="case-currency"
                size={3}
                pattern="[A-Z]{3}"
                value={currency}
                onInput={(e) => setCurrency((e.target as HTMLInputElement).value.toUpperCase())}
              />
            </>
          )}
          <button type="submit">{t("cases.move")}</button>
        </form>
      )}
      <h3>{t("cases.notes")}</h3>
      <ul class="plain">
        {d.notes.map((n) => (
          <li key={n.id}>
            <When iso={n.created_at} /> · {n.author}: {n.text}
          </li>
        ))}
      </ul>
      {canWrite && (
        <form class="inline" onSubmit={addNote}>
          <label for="case-note">{t("cases.add_note")}</label>
          <input id="case-note" required value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          <button type="submit">{t("cases.add_note")}</button>
        </form>
      )}
      <ErrorBox error={error} />
    </Section>
  );
}
