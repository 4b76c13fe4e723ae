import { describe, expect, it } from "vitest";
import { sortQueue, upsertTask } from "./queue";
import type { Task } from "./types";

const now = Date.parse("2026-12-05T12:00:00Z");
function task(id: string, over: Partial<Task>): Task {
  return {
    id,
    customer_id: "c",
    type: "service_recovery",
    playbook: "service_recovery",
    title: id,
    status: "open",
    priority: "medium",
    assignee: "alice",
    team: null,
    due_at: "2026-12-05T18:00:00Z",
    cause_event_id: "e",
    cause_event_type: "crm.feedback.received.v1",
    correlation_id: "x",
    claimed_by: null,
    outcome: null,
    closed_at: null,
    escalation_level: 0,
    created_at: "2026-12-05T10:00:00Z",
    ...over,
  };
}

describe("work queue order", () => {
  it("puts overdue first, then escalated, then priority, then the earliest due", () => {
    const tasks = [
      task("later", { due_at: "2026-12-06T10:00:00Z" }),
      task("high", { priority: "high" }),
      task("escalated", { escalation_level: 1 }),
      task("overdue", { due_at: "2026-12-05T11:00:00Z" }),
      task("sooner", { due_at: "2026-12-05T13:00:00Z" }),
      task("done-overdue", { due_at: "2026-12-05T11:00:00Z", status: "done" }),
    ];
    expect(sortQueue(tasks, now).map((t) => t.id)).toEqual([
      "overdue",
      "escalated",
      "high",
      "sooner",
      "later",
      "done-overdue",
    ]);
  });
  it("replaces a task updated live and drops it from open work once closed", () => {
    const list = [task("a", {}), task("b", {})];
    expect(upsertTask(list, task("b", { status: "claimed" })).map((t) => [t.id, t.status])).toEqual([
      ["b", "claimed"],
      ["a", "open"],
    ]);
    expect(upsertTask(list, task("a", { status: "done" })).map((t) => t.id)).toEqual(["b"]);
    expect(upsertTask(list, task("a", { status: "done" }), true)).toHaveLength(2);
  });
});
