import { useState } from "preact/hooks";
import { LineChart, color } from "../components/Chart";
import { Badge, ErrorBox, Loading, Section, When } from "../components/common";
import { useApp, useLoad, useLocale } from "../context";
import { formatNumber, t, type MessageKey } from "../lib/i18n";
import { indicatorNames, toChart, type SegmentPeriod } from "../lib/indicators";
import { word } from "../lib/taxonomy";
import type { Page } from "../lib/types";

interface Threshold {
  indicator: string;
  unit: string;
  value: number;
  direction: string;
  min_sample: number;
  enabled: boolean;
  period: string;
}
interface Alert {
  id: string;
  indicator: string;
  dimension: string;
  segment: string | null;
  value: number;
  threshold: number;
  direction: string;
  opened_at: string;
}
interface Theme {
  category: string;
  product: string | null;
  complaints: number;
  customers: number;
  previous_period: number;
  change_percent: number | null;
  escalate?: boolean;
}
interface Counts {
  buckets: { period_start: string; counts: Record<string, number>; total: number }[];
  totals: Record<string, number>;
}

const DIMENSIONS = ["all", "tier", "region", "industry", "owner"];
const PERIODS = ["day", "week", "month"];

/** The indicator system as charts, thresholds, open alerts and recurring complaint themes. */
export function Dashboard() {
  const { api } = useApp();
  const locale = useLocale();
  const [dimension, setDimension] = useState("all");
  const [period, setPeriod] = useState("month");
  const since = new Date(Date.now() - 180 * 86_400_000).toISOString();
  const indicators = useLoad(
    () => api.get<Page<SegmentPeriod>>("scoring", "/v1/indicators", { dimension, period, limit: 200 }),
    [dimension, period],
  );
  const side = useLoad(async () => {
    const [thresholds, alerts, themes, counts] = await Promise.all([
      api.get<{ items: Threshold[] }>("scoring", "/v1/indicator-thresholds"),
      api.get<Page<Alert>>("scoring", "/v1/alerts", { state: "open", limit: 50 }),
      api.get<{ themes: Theme[] }>("feedback", "/v1/reports/themes", { since, limit: 10 }),
      api.get<Counts>("feedback", "/v1/reports/complaints", { since, group_by: "category", interval: period === "day" ? "day" : period }),
    ]);
    return { thresholds: thresholds.items, alerts: alerts.items, themes: themes.themes, counts };
  }, [period]);

  const items = indicators.data?.items ?? [];
  const names = indicatorNames(items);
  const categories = Object.keys(side.data?.counts.totals ?? {}).sort();
  const buckets = side.data?.counts.buckets ?? [];

  return (
    <div>
      <h1>{t("dash.title")}</h1>
      <form class="inline" onSubmit={(e) => e.preventDefault()} aria-label={t("dash.indicators")}>
        <label for="dash-dimension">{t("dash.dimension")}</label>
        <select id="dash-dimension" value={dimension} onChange={(e) => setDimension((e.target as HTMLSelectElement).value)}>
          {DIMENSIONS.map((d) => (
            <option key={d} value={d}>
              {t(`dim.${d}` as MessageKey)}
            </option>
          ))}
        </select>
        <label for="dash-period">{t("dash.period")}</label>
        <select id="dash-period" value={period} onChange={(e) => setPeriod((e.target as HTMLSelectElement).value)}>
          {PERIODS.map((p) => (
            <option key={p} value={p}>
              {t(`period.${p}` as MessageKey)}
            </option>
          ))}
        </select>
      </form>
      <ErrorBox error={indicators.error} />
      {indicators.loading && !indicators.data && <Loading />}
      <Section title={t("dash.indicators")} id="indicators">
        {names.length === 0 && !indicators.loading && <p class="muted">{t("common.none")}</p>}
        <div class="grid2">
          {names.slice(0, 12).map((name) => {
            const chart = toChart(items, name);
            const last = chart.segments.map((s) => `${s.segment}: ${formatNumber(s.values[s.values.length - 1], 1)}`).join(", ");
            return (
              <div key={name} data-indicator={name}>
                <h3>
                  {name} <span class="muted small">({chart.unit})</span>
                </h3>
                <LineChart
                  title={`${name} by ${dimension} per ${period}`}
                  times={chart.times}
                  series={chart.segments.map((s, i) => ({ label: s.segment, color: color(i), values: s.values }))}
                  height={180}
                  summary={`${last} · n=${chart.samples}`}
                />
              </div>
            );
          })}
        </div>
      </Section>
      <ErrorBox error={side.error} />
      {side.data && (
        <>
          <Section title={t("dash.complaints")} id="complaints">
            {buckets.length ? (
              <LineChart
                title={t("dash.complaints")}
                bars
                times={buckets.map((b) => Date.parse(b.period_start) / 1000)}
                series={categories.map((c, i) => ({ label: word(c, locale), color: color(i), values: buckets.map((b) => b.counts[c] ?? 0) }))}
                summary={categories.map((c) => `${word(c, locale)}: ${side.data!.counts.totals[c]}`).join(", ")}
              />
            ) : (
              <p class="muted">{t("common.none")}</p>
            )}
          </Section>
          <div class="grid2">
            <Section title={t("dash.alerts")} id="alerts">
              {side.data.alerts.length === 0 && <p class="muted">{t("common.none")}</p>}
              <ul class="plain">
                {side.data.alerts.map((a) => (
                  <li key={a.id}>
                    <Badge kind="danger">{a.indicator}</Badge> {a.dimension}
                    {a.segment ? `=${a.segment}` : ""}: {formatNumber(a.value, 1)} ({a.direction} {formatNumber(a.threshold, 1)}) ·{" "}
                    <When iso={a.opened_at} />
                  </li>
                ))}
              </ul>
            </Section>
            <Section title={t("dash.themes")} id="themes">
              {side.data.themes.length === 0 && <p class="muted">{t("common.none")}</p>}
              <ul class="plain">
                {side.data.themes.map((theme, i) => {
                  const escalate = theme.escalate ?? (theme.customers >= 2 && (theme.change_percent ?? 100) > 0);
                  return (
                    <li key={i} data-escalate={escalate}>
                      <strong>{word(theme.category, locale)}</strong>
                      {theme.product ? ` · ${theme.product}` : ""}: {theme.complaints} / {theme.customers}{" "}
                      {theme.change_percent !== null && `(${theme.change_percent > 0 ? "+" : ""}${formatNumber(theme.change_percent, 0)} %)`}{" "}
                      {escalate && <Badge kind="warn">{t("dash.escalate")}</Badge>}
                    </li>
                  );
                })}
              </ul>
            </Section>
          </div>
          <Section title={t("dash.thresholds")} id="thresholds">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("dash.indicators")}</th>
                  <th scope="col">{t("dash.thresholds")}</th>
                  <th scope="col">n ≥</th>
                  <th scope="col">{t("dash.period")}</th>
                </tr>
              </thead>
              <tbody>
                {side.data.thresholds.map((th) => (
                  <tr key={th.indicator}>
                    <td>{th.indicator}</td>
                    <td>
                      {th.direction} {formatNumber(th.value, 1)} {th.unit} {!th.enabled && <span class="muted">(off)</span>}
                    </td>
                    <td>{th.min_sample}</td>
                    <td>{th.period}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        </>
      )}
    </div>
  );
}
