import { useState } from "preact/hooks";
import { ErrorBox, Loading, Section } from "../components/common";
import { CustomerCard } from "../components/CustomerCard";
import { FeedbackForm } from "../components/FeedbackForm";
import { useApp, useLocale } from "../context";
import { t } from "../lib/i18n";
import { formatPhone, parseQuery, type ParsedQuery } from "../lib/phone";
import { word } from "../lib/taxonomy";
import type { Customer, Page } from "../lib/types";

interface Hit {
  id: string;
  name: string;
  tier?: string;
  phone?: string | null;
  email?: string | null;
}

/** Find the caller (phone in any format, email, or a name with typos), see the card, record feedback. */
export function Desk() {
  const { api } = useApp();
  const locale = useLocale();
  const [query, setQuery] = useState("");
  const [asked, setAsked] = useState<ParsedQuery | null>(null);
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const find = async (event: Event) => {
    event.preventDefault();
    const parsed = parseQuery(query);
    if (!parsed.value) return;
    setBusy(true);
    setError(null);
    setSelected(null);
    try {
      let found: Hit[];
      if (parsed.kind === "name") {
        const res = await api.get<{ items: (Hit & { customer?: Hit })[] }>("contacts", "/v1/customers/search", {
          q: parsed.value,
          limit: 10,
        });
        found = res.items.map((item) => item.customer ?? item);
      } else {
        const res = await api.get<Page<Customer>>("contacts", "/v1/customers", { [parsed.kind]: parsed.value, limit: 10 });
        found = res.items;
      }
      setAsked(parsed);
      setHits(found);
      if (found.length === 1) setSelected(found[0].id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="desk">
      <h1>{t("desk.title")}</h1>
      <form class="search" role="search" onSubmit={find}>
        <label for="desk-query">{t("desk.query")}</label>
        <input
          id="desk-query"
          name="q"
          type="search"
          autocomplete="off"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          {t("desk.find")}
        </button>
      </form>
      <ErrorBox error={error} />
      {busy && <Loading />}
      {hits && hits.length > 0 && (
        <Section title={t("desk.results")} id="desk-results">
          <ul class="hits">
            {hits.map((hit) => (
              <li key={hit.id}>
                <button
                  type="button"
                  class={selected === hit.id ? "hit selected" : "hit"}
                  aria-pressed={selected === hit.id}
                  onClick={() => setSelected(hit.id)}
                >
                  <strong>{hit.name}</strong> {hit.tier && <span class="muted">{word(hit.tier, locale)}</span>}{" "}
                  {hit.phone && <span class="muted">{formatPhone(hit.phone)}</span>}
                </button>
              </li>
            ))}
          </ul>
        </Section>
      )}
      {selected && (
        <div class="grid2">
          <CustomerCard id={selected} />
          <FeedbackForm key={selected} customerId={selected} />
        </div>
      )}
      {hits && hits.length === 0 && asked && (
        <div class="grid2">
          <Section title={t("desk.results")} id="desk-nomatch">
            <p>{t("desk.nomatch")}</p>
          </Section>
          <FeedbackForm key={`${asked.kind}:${asked.value}`} caller={asked} />
        </div>
      )}
    </div>
  );
}
