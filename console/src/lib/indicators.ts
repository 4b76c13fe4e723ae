// The indicator pages of scoring's API as chart series: one line per segment over the periods.

export interface IndicatorValue {
  value: number | null;
  sample_size: number;
  unit: string;
}

export interface SegmentPeriod {
  dimension: string;
  segment: string | null;
  period: string;
  period_start: string;
  indicators: Record<string, IndicatorValue>;
}

export const KEY_INDICATORS = ["nps", "csat", "ces", "complaint_rate_per_100", "sla_attainment", "retention_rate"];

export interface ChartData {
  times: number[];
  segments: { segment: string; values: (number | null)[] }[];
  unit: string;
  samples: number;
}

/** Times ascending; one series per segment, null where a segment has no value in a period. */
export function toChart(items: SegmentPeriod[], indicator: string): ChartData {
  const starts = [...new Set(items.map((i) => i.period_start))].sort((a, b) => Date.parse(a) - Date.parse(b));
  const segments = [...new Set(items.map((i) => i.segment ?? "all"))].sort();
  let unit = "";
  let samples = 0;
  const lookup = new Map<string, IndicatorValue>();
  for (const item of items) {
    const value = item.indicators[indicator];
    if (!value) continue;
    unit = value.unit;
    samples += value.sample_size;
    lookup.set(`${item.segment ?? "all"}|${item.period_start}`, value);
  }
  return {
    times: starts.map((s) => Date.parse(s) / 1000),
    segments: segments.map((segment) => ({
      segment,
      values: starts.map((s) => lookup.get(`${segment}|${s}`)?.value ?? null),
    })),
    unit,
    samples,
  };
}

/** Indicator names found in a page, key ones first. */
export function indicatorNames(items: SegmentPeriod[]): string[] {
  const names = new Set<string>();
  for (const item of items) Object.keys(item.indicators).forEach((n) => names.add(n));
  return [...KEY_INDICATORS.filter((n) => names.has(n)), ...[...names].filter((n) => !KEY_INDICATORS.includes(n)).sort()];
}
