import { describe, expect, it } from "vitest";
import type { Task } from "../lib/types";
import { withTask, type View360 } from "./CustomerCard";

const task = (id: string, status: Task["status"]) => ({ id, status, due_at: "2026-12-05T12:00:00Z" }) as Task;

describe("a live task on the customer's view", () => {
  it("moves a task between open, claimed and closed as its status changes", () => {
    let view = { tasks: { open: [task("a", "open")], claimed: [], recently_closed: [] } } as unknown as View360;
    view = withTask(view, task("b", "open"));
    expect(view.tasks!.open.map((t) => t.id)).toEqual(["b", "a"]);
    view = withTask(view, task("a", "claimed"));
    expect(view.tasks!.claimed.map((t) => t.id)).toEqual(["a"]);
    view = withTask(view, task("a", "done"));
    expect(view.tasks!.open.map((t) => t.id)).toEqual(["b"]);
    expect(view.tasks!.claimed).toEqual([]);
    expect(view.tasks!.recently_closed.map((t) => t.id)).toEqual(["a"]);
  });
  it("starts the groups when the view had no tasks part (notifications was missing)", () => {
    const view = withTask({ tasks: null } as unknown as View360, task("n", "open"));
    expect(view.tasks!.open.map((t) => t.id)).toEqual(["n"]);
  });
});
