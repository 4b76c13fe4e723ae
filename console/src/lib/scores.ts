// Score changes in words, and the link to what caused them.
import { formatNumber, t, type MessageKey } from "./i18n";
import type { Feedback, ScoreChange } from "./types";

export const SCORE_NAMES = ["satisfaction", "loyalty", "value", "churn_risk", "health"] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];

const CAUSES: Record<string, { en: string; "zh-CN": string }> = {
  "crm.feedback.received.v1": { en: "new feedback", "zh-CN": "新的反馈" },
  "crm.feedback.status_changed.v1": { en: "a case status change", "zh-CN": "案件状态变化" },
  "crm.contact.created.v1": { en: "the new customer record", "zh-CN": "新建客户记录" },
  "crm.contact.updated.v1": { en: "a change to the customer card", "zh-CN": "客户卡片修改" },
  "crm.activity.recorded.v1": { en: "a recorded activity", "zh-CN": "新记录的活动" },
  "crm.contact.activity_recorded.v1": { en: "a recorded order, contract or visit", "zh-CN": "新记录的订单、合同或拜访" },
  "crm.contact.merged.v1": { en: "a merge of duplicate records", "zh-CN": "重复记录合并" },
  "crm.task.status_changed.v1": { en: "a task status change", "zh-CN": "任务状态变化" },
};

export function causeLabel(type: string, locale: "en" | "zh-CN"): string {
  if (CAUSES[type]) return CAUSES[type][locale];
  if (type.startsWith("rescore") || type.includes("rescore")) return locale === "en" ? "a rescore run" : "重新评分";
  return type;
}

/** One sentence per change: which scores moved, by how much, and why. */
export function describeChange(change: ScoreChange, locale: "en" | "zh-CN"): string {
  const parts: string[] = [];
  const names = change.changed.length ? change.changed : ["health"];
  for (const name of names) {
    if (!(SCORE_NAMES as readonly string[]).includes(name)) continue;
    const to = change[name as ScoreName];
    const from = change[`previous_${name}` as keyof ScoreChange] as number | null;
    const label = t(`score.${name}` as MessageKey);
    if (from === null || from === undefined) {
      if (name === "health") parts.push(t("score.first", { to: formatNumber(to as number, 1, locale) }));
      continue;
    }
    if (to === null || to === undefined || from === to) continue;
    const key = (to as number) > from ? "score.rose" : "score.fell";
    parts.push(t(key, { score: label, from: formatNumber(from, 1, locale), to: formatNumber(to as number, 1, locale) }));
  }
  if (change.previous_band && change.previous_band !== change.band) {
    parts.push(t("score.band", { from: change.previous_band, to: change.band }));
  }
  parts.push(t("score.cause", { cause: causeLabel(change.cause_event_type, locale) }));
  return parts.join(locale === "zh-CN" ? "；" : "; ");
}

/**
 * The feedback that most likely caused a change: scoring names the event, not the feedback, so a
 * feedback cause is matched with the latest feedback received at or before the change.
 */
export function feedbackFor(change: ScoreChange, feedback: Feedback[]): Feedback | null {
  if (!change.cause_event_type.startsWith("crm.feedback.")) return null;
  const at = Date.parse(change.computed_at);
  let best: Feedback | null = null;
  for (const item of feedback) {
    const received = Date.parse(item.received_at);
    if (received <= at + 1000 && (!best || received > Date.parse(best.received_at))) best = item;
  }
  return best;
}
