import { describe, expect, it } from "vitest";
import { indicatorNames, toChart, type SegmentPeriod } from "./indicators";

const item = (segment: string | null, start: string, nps: number | null, extra = {}): SegmentPeriod => ({
  dimension: segment ? "tier" : "all",
  segment,
  period: "month",
  period_start: start,
  indicators: { nps: { value: nps, sample_size: 3, unit: "score" }, ...extra },
});

describe("indicator charts", () => {
  it("makes one series per segment over ascending periods, with gaps as null", () => {
    const chart = toChart(
      [item("key", "2026-12-01T00:00:00Z", 20), item("gold", "2026-11-01T00:00:00Z", -10), item("key", "2026-11-01T00:00:00Z", 5)],
      "nps",
    );
    expect(chart.times).toEqual([Date.parse("2026-11-01T00:00:00Z") / 1000, Date.parse("2026-12-01T00:00:00Z") / 1000]);
    expect(chart.segments).toEqual([
      { segment: "gold", values: [-10, null] },
      { segment: "key", values: [5, 20] },
    ]);
    expect(chart.samples).toBe(9);
  });
  it("lists the key indicators first", () => {
    const names = indicatorNames([item(null, "2026-12-01T00:00:00Z", 1, { aaa: { value: 1, sample_size: 1, unit: "" }, csat: { value: 1, sample_size: 1, unit: "%" } })]);
    expect(names).toEqual(["nps", "csat", "aaa"]);
  });
});
