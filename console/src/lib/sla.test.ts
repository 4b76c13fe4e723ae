import { describe, expect, it } from "vitest";
import { clockView, urgentClock } from "./sla";
import type { SlaClock } from "./types";

const now = Date.parse("2026-12-05T12:00:00Z");
const clock = (over: Partial<SlaClock>): SlaClock => ({
  clock: "resolution",
  status: "running",
  target_seconds: 3600,
  due_at: "2026-12-05T13:00:00Z",
  paused_at: null,
  met_at: null,
  breached_at: null,
  ...over,
});

describe("SLA countdown", () => {
  it("counts down a running clock and shows a late one as negative", () => {
    expect(clockView(clock({}), now)).toEqual({ clock: "resolution", state: "running", remaining: 3600_000 });
    expect(clockView(clock({ due_at: "2026-12-05T11:59:00Z" }), now).state).toBe("late");
  });
  it("freezes a paused clock at what was left when it paused", () => {
    const paused = clock({ status: "paused", paused_at: "2026-12-05T12:30:00Z" });
    expect(clockView(paused, now).remaining).toBe(1800_000);
    expect(clockView(paused, now + 600_000).remaining).toBe(1800_000);
  });
  it("picks the running clock due soonest", () => {
    const clocks = [clock({}), clock({ clock: "first_response", due_at: "2026-12-05T12:10:00Z" }), clock({ clock: "x", status: "met", met_at: "2026-12-05T11:00:00Z" })];
    expect(urgentClock(clocks, now)?.clock).toBe("first_response");
  });
});
