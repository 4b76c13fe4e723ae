import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  color: string;
  values: (number | null)[];
}

const PALETTE = ["#1f5fbf", "#b3261e", "#1b7f3b", "#8a4fbf", "#b36b00", "#006b77", "#5c5c5c"];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/**
 * A line chart (uPlot) of series over time (seconds since the epoch). `title` names it for screen
 * readers; `summary` is the text alternative under the chart.
 */
export function LineChart(props: {
  title: string;
  times: number[];
  series: Series[];
  height?: number;
  bars?: boolean;
  summary?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const width = Math.max(280, el.clientWidth || 600);
    const opts: uPlot.Options = {
      width,
      height: props.height ?? 220,
      legend: { show: true },
      // One period alone would span years: show a month around it.
      scales: { x: { time: true, range: (_u, min, max) => (min === max ? [min - 15 * 86_400, max + 15 * 86_400] : [min, max]) } },
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          points: { show: true, size: 6 },
          ...(props.bars ? { paths: uPlot.paths.bars?.({ size: [0.6, 40] }), fill: `${s.color}99` } : {}),
        })),
      ],
      axes: [{ stroke: "#333" }, { stroke: "#333" }],
    };
    const data = [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new uPlot(opts, data, el);
    return () => plot.destroy();
  }, [props.times, props.series, props.height, props.bars]);
  return (
    <figure class="chart">
      <div ref={ref} role="img" aria-label={props.title} data-chart={props.title} />
      {props.summary && <figcaption class="muted">{props.summary}</figcaption>}
    </figure>
  );
}
