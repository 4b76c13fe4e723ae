import { describe, expect, it } from "vitest";
import { changesSince, type AuditEntry } from "./EditCard";

const entry = (action: string, at: string, changes = {}): AuditEntry => ({ actor: "x", action, at, changes });

describe("the conflict screen's changes", () => {
  it("lists the card changes made after the version read, not activities or the creation", () => {
    const entries = [
      entry("updated", "2026-12-05T10:05:00Z", { owner: { from: "gwen", to: "hugo" } }),
      entry("activity_recorded", "2026-12-05T10:04:00Z"),
      entry("tier_changed", "2026-12-05T10:03:00Z"),
      entry("updated", "2026-12-05T09:00:00Z"),
      entry("created", "2026-12-05T08:00:00Z"),
    ];
    expect(changesSince(entries, "2026-12-05T10:00:00Z").map((e) => e.action)).toEqual(["updated", "tier_changed"]);
  });
  it("falls back to the latest card change when clocks disagree", () => {
    const entries = [entry("activity_recorded", "2026-12-05T10:04:00Z"), entry("updated", "2026-12-05T09:00:00Z")];
    expect(changesSince(entries, "2026-12-05T10:00:00Z").map((e) => e.at)).toEqual(["2026-12-05T09:00:00Z"]);
  });
});
