// The order of a work queue: what hurts most first.
import type { Task } from "./types";

export function isOverdue(task: Task, now: number): boolean {
  return (task.status === "open" || task.status === "claimed") && Date.parse(task.due_at) < now;
}

function isClosed(task: Task): boolean {
  return task.status === "done" || task.status === "cancelled";
}

const PRIORITY: Record<string, number> = { critical: 0, urgent: 0, high: 1, medium: 2, normal: 2, low: 3 };

/** Open work before closed; overdue first, then escalated (higher level first), then priority, then the earliest due. */
export function compareTasks(a: Task, b: Task, now: number): number {
  const closed = Number(isClosed(a)) - Number(isClosed(b));
  if (closed) return closed;
  const overdue = Number(isOverdue(b, now)) - Number(isOverdue(a, now));
  if (overdue) return overdue;
  const escalated = (b.escalation_level ?? 0) - (a.escalation_level ?? 0);
  if (escalated) return escalated;
  const priority = (PRIORITY[a.priority] ?? 2) - (PRIORITY[b.priority] ?? 2);
  if (priority) return priority;
  return Date.parse(a.due_at) - Date.parse(b.due_at);
}

export function sortQueue(tasks: Task[], now: number = Date.now()): Task[] {
  return [...tasks].sort((a, b) => compareTasks(a, b, now));
}

/** Replaces a task by id (a live update), or adds it; closed tasks leave an open-work list. */
export function upsertTask(tasks: Task[], task: Task, keepClosed = false): Task[] {
  const rest = tasks.filter((t) => t.id !== task.id);
  if (!keepClosed && (task.status === "done" || task.status === "cancelled")) return rest;
  return [task, ...rest];
}
