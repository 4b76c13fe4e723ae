import type { ComponentChildren } from "preact";
import { ApiError } from "../lib/api";
import { formatDateTime, t } from "../lib/i18n";

export function Loading() {
  return (
    <p role="status" class="muted">
      {t("common.loading")}
    </p>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError && error.status ? ` (${error.status})` : "";
  return (
    <p role="alert" class="error">
      {t("common.error", { message: message + status })}
    </p>
  );
}

export function Section(props: { title: string; id?: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const headingId = `${props.id ?? props.title.replace(/\W+/g, "-").toLowerCase()}-h`;
  return (
    <section class="panel" aria-labelledby={headingId} id={props.id}>
      <div class="panel-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return null;
  return <time dateTime={iso}>{formatDateTime(iso)}</time>;
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function LiveDot({ state }: { state: "idle" | "connecting" | "open" | "closed" }) {
  if (state === "idle") return null;
  return (
    <span class={`live live-${state}`} role="status" data-live={state}>
      {state === "open" ? t("common.live") : t("common.offline")}
    </span>
  );
}
