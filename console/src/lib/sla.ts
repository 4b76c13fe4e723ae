// SLA clocks as a countdown: time left (or how late), per clock.
import type { SlaClock } from "./types";

export interface ClockView {
  clock: string;
  state: "running" | "paused" | "met" | "breached" | "late";
  /** ms left (negative when late); for a paused clock, what was left when it paused. */
  remaining: number;
}

export function clockView(clock: SlaClock, now: number): ClockView {
  const due = Date.parse(clock.due_at);
  if (clock.status === "met") return { clock: clock.clock, state: "met", remaining: due - Date.parse(clock.met_at ?? clock.due_at) };
  if (clock.status === "breached") return { clock: clock.clock, state: "breached", remaining: due - now };
  if (clock.status === "paused") {
    return { clock: clock.clock, state: "paused", remaining: due - Date.parse(clock.paused_at ?? new Date(now).toISOString()) };
  }
  const remaining = due - now;
  return { clock: clock.clock, state: remaining < 0 ? "late" : "running", remaining };
}

/** The clock that matters most now: the running one due soonest, else the first. */
export function urgentClock(clocks: SlaClock[], now: number): ClockView | null {
  const views = clocks.map((c) => clockView(c, now));
  const running = views.filter((v) => v.state === "running" || v.state === "late").sort((a, b) => a.remaining - b.remaining);
  return running[0] ?? views[0] ?? null;
}
