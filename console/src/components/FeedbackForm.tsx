import { useState } from "preact/hooks";
import { useApp, useLocale } from "../context";
import { newKey } from "../lib/api";
import { t, type MessageKey } from "../lib/i18n";
import type { ParsedQuery } from "../lib/phone";
import { CATEGORIES, CHANNELS, FEEDBACK_TYPES, SEVERITIES, word } from "../lib/taxonomy";
import type { Feedback } from "../lib/types";
import { ErrorBox, Section } from "./common";

/**
 * Records feedback for a known customer, or for an unknown caller (who becomes a lead with a name).
 * One Idempotency-Key per filled-in form: a double click or a retry records one complaint; the key
 * changes only when the form is cleared for the next call.
 */
export function FeedbackForm(props: { customerId?: string; caller?: ParsedQuery; onRecorded?: (f: Feedback) => void }) {
  const { api } = useApp();
  const locale = useLocale();
  const [key, setKey] = useState(newKey);
  const [type, setType] = useState<string>("complaint");
  const [category, setCategory] = useState("service.delivery");
  const [severity, setSeverity] = useState("high");
  const [channel, setChannel] = useState("phone");
  const [description, setDescription] = useState("");
  const [name, setName] = useState(props.caller?.kind === "name" ? props.caller.value : "");
  const [phone, setPhone] = useState(props.caller?.kind === "phone" ? props.caller.value : "");
  const [email, setEmail] = useState(props.caller?.kind === "email" ? props.caller.value : "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [recorded, setRecorded] = useState<Feedback | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { type, channel, description, category };
    if (type === "complaint") body.severity = severity;
    if (props.customerId) body.customer_id = props.customerId;
    else body.customer = { name: name || undefined, phone: phone || undefined, email: email || undefined };
    try {
      const feedback = await api.post<Feedback>("feedback", "/v1/feedback", body, key);
      setRecorded(feedback);
      setDescription("");
      setKey(newKey());
      props.onRecorded?.(feedback);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const id = (field: string) => `fb-${field}`;
  return (
    <Section title={t("fb.title")} id="feedback-form">
      <form class="stack" onSubmit={submit} data-idempotency-key={key}>
        {!props.customerId && (
          <fieldset>
            <legend>{t("desk.nomatch")}</legend>
            <label for={id("name")}>{t("desk.lead_name")}</label>
            <input id={id("name")} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            <label for={id("phone")}>{t("desk.lead_phone")}</label>
            <input id={id("phone")} type="tel" value={phone} onInput={(e) => setPhone((e.target as HTMLInputElement).value)} />
            <label for={id("email")}>{t("desk.lead_email")}</label>
            <input id={id("email")} type="email" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          </fieldset>
        )}
        <label for={id("type")}>{t("fb.type")}</label>
        <select id={id("type")} value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
          {FEEDBACK_TYPES.map((v) => (
            <option key={v} value={v}>
              {t(`fb.type.${v}` as MessageKey)}
            </option>
          ))}
        </select>
        <label for={id("category")}>{t("fb.category")}</label>
        <select id={id("category")} value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
          {Object.entries(CATEGORIES).map(([group, names]) => (
            <optgroup key={group} label={word(group, locale)}>
              {names.map((n) => (
                <option key={n} value={`${group}.${n}`}>
                  {word(n, locale)}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        {type === "complaint" && (
          <>
            <label for={id("severity")}>{t("fb.severity")}</label>
            <select id={id("severity")} value={severity} onChange={(e) => setSeverity((e.target as HTMLSelectElement).value)}>
              {SEVERITIES.map((v) => (
                <option key={v} value={v}>
                  {word(v, locale)}
                </option>
              ))}
            </select>
          </>
        )}
        <label for={id("channel")}>{t("fb.channel")}</label>
        <select id={id("channel")} value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value)}>
          {CHANNELS.map((v) => (
            <option key={v} value={v}>
              {word(v, locale)}
            </option>
          ))}
        </select>
        <label for={id("description")}>{t("fb.description")}</label>
        <textarea
          id={id("description")}
          required
          rows={4}
          value={description}
          onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit" disabled={busy}>
          {t("fb.submit")}
        </button>
        <ErrorBox error={error} />
        {recorded && (
          <p role="status" class="ok" data-feedback-id={recorded.id}>
            {t("fb.recorded", { type: word(recorded.type, locale), id: recorded.id.slice(0, 8) })}
          </p>
        )}
      </form>
    </Section>
  );
}
