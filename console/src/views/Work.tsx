import { ErrorBox, LiveDot, Loading, Section } from "../components/common";
import { TaskItem } from "../components/TaskItem";
import { useApp, useLive, useLoad, useLocale, useNow } from "../context";
import type { ApiClient } from "../lib/api";
import type { Session } from "../lib/auth";
import { t } from "../lib/i18n";
import { sortQueue, upsertTask } from "../lib/queue";
import type { Page, Task } from "../lib/types";

interface Team {
  name: string;
  members: string[];
  lead: string | null;
  manager: string | null;
}

interface Queues {
  mine: Task[];
  team: Task[];
  members: string[];
}

/** Whether a task is in my team's queue: from my team, or assigned to one of its members but not me. */
export function inTeamQueue(task: Task, session: Session, members: string[]): boolean {
  if (task.assignee === session.subject || task.claimed_by === session.subject) return false;
  return (task.team !== null && session.teams.includes(task.team)) || members.includes(task.assignee);
}

async function loadQueues(api: ApiClient, session: Session): Promise<Queues> {
  const open = ["open", "claimed"];
  const [assigned, claimed, all, teams] = await Promise.all([
    api.get<Page<Task>>("notifications", "/v1/tasks", { assignee: session.subject, status: open, limit: 200 }),
    api.get<Page<Task>>("notifications", "/v1/tasks", { status: ["claimed"], limit: 200 }),
    session.teams.length
      ? api.get<Page<Task>>("notifications", "/v1/tasks", { status: open, limit: 200 })
      : Promise.resolve({ items: [] as Task[], next_cursor: null }),
    session.teams.length
      ? api.get<{ items: Team[] }>("notifications", "/v1/teams").catch(() => ({ items: [] as Team[] }))
      : Promise.resolve({ items: [] as Team[] }),
  ]);
  const members = teams.items.filter((team) => session.teams.includes(team.name)).flatMap((team) => team.members);
  const mineById = new Map<string, Task>();
  for (const task of [...assigned.items, ...claimed.items.filter((x) => x.claimed_by === session.subject)]) {
    mineById.set(task.id, task);
  }
  return {
    mine: [...mineById.values()],
    team: all.items.filter((task) => inTeamQueue(task, session, members)),
    members,
  };
}

/** My tasks and my team's queue, overdue and escalated first; new tasks appear live. */
export function Work() {
  const { api, session } = useApp();
  useLocale();
  const now = useNow(30_000);
  const queues = useLoad(() => loadQueues(api, session), [session.subject]);
  const onTask = (task: Task) =>
    queues.set((prev) => {
      if (!prev) return prev;
      const mine = task.assignee === session.subject || task.claimed_by === session.subject;
      const team = !mine && inTeamQueue(task, session, prev.members);
      return {
        ...prev,
        mine: mine ? upsertTask(prev.mine, task) : prev.mine.filter((x) => x.id !== task.id),
        team: team ? upsertTask(prev.team, task) : prev.team.filter((x) => x.id !== task.id),
      };
    });
  // "resync": the server dropped events for this slow tab, so the list is read again.
  const live = useLive(`/api/notifications/v1/live?assignee=${encodeURIComponent(session.subject)}`, (event) => {
    if (event.event === "task") onTask(JSON.parse(event.data) as Task);
    else if (event.event === "resync") queues.reload();
  });
  const teamLive = useLive(
    session.teams[0] ? `/api/notifications/v1/live?queue=${encodeURIComponent(session.teams[0])}` : null,
    (event) => {
      if (event.event === "task") onTask(JSON.parse(event.data) as Task);
      else if (event.event === "resync") queues.reload();
    },
  );

  if (!queues.data) return queues.error ? <ErrorBox error={queues.error} /> : <Loading />;
  const q = queues.data!;
  return (
    <div>
      <div class="title-row">
        <h1>{t("work.title")}</h1>
        <LiveDot state={live === "open" && teamLive !== "closed" ? "open" : live} />
      </div>
      <div class="grid2">
        <Section title={t("work.mine")} id="my-tasks">
          {q.mine.length === 0 && <p class="muted">{t("common.none")}</p>}
          <ul class="tasks" data-queue="mine">
            {sortQueue(q.mine, now).map((task) => (
              <TaskItem key={task.id} task={task} onChange={onTask} />
            ))}
          </ul>
        </Section>
        {session.teams.length > 0 && (
          <Section title={`${t("work.team")} (${session.teams.join(", ")})`} id="team-queue">
            {q.team.length === 0 && <p class="muted">{t("common.none")}</p>}
            <ul class="tasks" data-queue="team">
              {sortQueue(q.team, now).map((task) => (
                <TaskItem key={task.id} task={task} onChange={onTask} />
              ))}
            </ul>
          </Section>
        )}
      </div>
    </div>
  );
}
