// English and Simplified Chinese, switchable and remembered (localStorage); dates and numbers via
// Intl in the browser's own time zone.

export type Locale = "en" | "zh-CN";
export const LOCALES: Locale[] = ["en", "zh-CN"];

const en = {
  "app.title": "CRM console",
  "app.skip": "Skip to content",
  "nav.desk": "Caller desk",
  "nav.work": "My work",
  "nav.cases": "Cases",
  "nav.dashboard": "Dashboard",
  "nav.admin": "Admin",
  "nav.main": "Main",
  "lang.label": "Language",
  "signin.title": "Sign in",
  "signin.user": "User",
  "signin.role": "Role",
  "signin.submit": "Sign in",
  "signin.oidc": "Sign in with your organisation",
  "signin.dev": "Development sign-in: pick a user and a role.",
  "signin.out": "Sign out",
  "signin.as": "Signed in as {user} ({role})",
  "common.loading": "Loading…",
  "common.error": "Something went wrong: {message}",
  "common.none": "Nothing here.",
  "common.save": "Save",
  "common.cancel": "Cancel",
  "common.reason": "Reason",
  "common.open": "Open",
  "common.live": "Live",
  "common.offline": "Reconnecting…",
  "common.refresh": "Refresh",
  "common.unknown": "Unknown",
  "desk.title": "Caller desk",
  "desk.query": "Phone, email or name",
  "desk.find": "Find",
  "desk.results": "Matches",
  "desk.nomatch": "No customer matches. Record the call and the caller becomes a lead.",
  "desk.lead_name": "Caller's name",
  "desk.lead_phone": "Caller's phone",
  "desk.lead_email": "Caller's email",
  "card.tier": "Tier",
  "card.owner": "Owner",
  "card.band": "Band",
  "card.open_cases": "Open cases",
  "card.open_tasks": "Open tasks",
  "card.view360": "Open customer 360",
  "fb.title": "Record feedback",
  "fb.type": "Type",
  "fb.category": "Category",
  "fb.severity": "Severity",
  "fb.channel": "Channel",
  "fb.description": "Description",
  "fb.submit": "Record",
  "fb.recorded": "Recorded: {type} ({id}).",
  "fb.type.complaint": "Complaint",
  "fb.type.praise": "Praise",
  "fb.type.suggestion": "Suggestion",
  "fb.type.inquiry": "Inquiry",
  "c360.profile": "Profile",
  "field.name": "Name",
  "field.email": "Email",
  "field.phone": "Phone",
  "field.owner": "Owner",
  "field.region": "Region",
  "field.industry": "Industry",
  "field.lifecycle": "Lifecycle stage",
  "field.status": "Status",
  "dim.all": "All customers",
  "dim.tier": "Tier",
  "dim.region": "Region",
  "dim.industry": "Industry",
  "dim.owner": "Owner",
  "period.day": "Day",
  "period.week": "Week",
  "period.month": "Month",
  "c360.activities": "Activities",
  "c360.feedback": "Feedback and cases",
  "c360.scores": "Scores",
  "c360.trend": "Score trend",
  "c360.changes": "What changed the scores",
  "c360.tasks": "Tasks",
  "c360.messages": "Messages sent",
  "c360.edit": "Edit the card",
  "c360.saved": "Saved.",
  "c360.conflict": "Someone else changed this customer while you were editing.",
  "c360.conflict_who": "{actor} changed {fields} at {at}.",
  "c360.reload": "Load their version and edit again",
  "c360.partial": "Part of this view is missing: {parts}.",
  "score.satisfaction": "Satisfaction",
  "score.loyalty": "Loyalty",
  "score.value": "Value",
  "score.churn_risk": "Churn risk",
  "score.health": "Health",
  "score.rose": "{score} rose from {from} to {to}",
  "score.fell": "{score} fell from {from} to {to}",
  "score.band": "band {from} → {to}",
  "score.cause": "because of {cause}",
  "score.first": "first scores: health {to}",
  "task.open": "Open",
  "task.claimed": "Claimed",
  "task.closed": "Closed",
  "task.claim": "Claim",
  "task.complete": "Complete",
  "task.cancel": "Cancel task",
  "task.outcome": "Outcome",
  "task.due": "Due {at}",
  "task.overdue": "Overdue",
  "task.escalated": "Escalated (level {level})",
  "work.title": "My work",
  "work.mine": "My tasks",
  "work.team": "My team's queue",
  "cases.title": "Complaint cases",
  "cases.sla": "SLA",
  "cases.due_in": "due in {time}",
  "cases.late_by": "late by {time}",
  "cases.met": "met",
  "cases.paused": "paused",
  "cases.move": "Move to",
  "cases.notes": "Notes",
  "cases.add_note": "Add note",
  "cases.history": "History",
  "cases.reopen": "Reopen",
  "cases.reopened": "Reopened",
  "cases.pause": "Pause the SLA (waiting on the customer)",
  "cases.pause_reason": "Waiting for",
  "cases.resume": "Resume the SLA",
  "cases.surveys": "Survey answers to this case",
  "cases.cause": "Cause",
  "cases.remedy": "Remedy",
  "cases.compensation": "Compensation (optional)",
  "cases.currency": "Currency",
  "dash.title": "Dashboard",
  "dash.indicators": "Indicators",
  "dash.dimension": "Cut by",
  "dash.period": "Period",
  "dash.thresholds": "Thresholds",
  "dash.alerts": "Open alerts",
  "dash.themes": "Recurring themes",
  "dash.escalate": "Escalate to management",
  "dash.complaints": "Complaints by category",
  "admin.title": "Admin",
  "admin.playbooks": "Playbooks",
  "admin.sla": "SLA policy",
  "admin.tiers": "Tier rules",
  "admin.scorecard": "Scorecard",
  "admin.rescore": "Rescore everyone",
  "admin.templates": "Message templates",
  "admin.webhooks": "Webhooks",
  "admin.deliveries": "Deliveries",
  "admin.replay": "Replay",
  "admin.progress": "Run {status}: {done} of {total}",
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  "app.title": "CRM 控制台",
  "app.skip": "跳到正文",
  "nav.desk": "来电台",
  "nav.work": "我的工作",
  "nav.cases": "投诉案件",
  "nav.dashboard": "仪表盘",
  "nav.admin": "管理",
  "nav.main": "主导航",
  "lang.label": "语言",
  "signin.title": "登录",
  "signin.user": "用户",
  "signin.role": "角色",
  "signin.submit": "登录",
  "signin.oidc": "使用组织账号登录",
  "signin.dev": "开发环境登录：选择用户和角色。",
  "signin.out": "退出",
  "signin.as": "当前用户 {user}（{role}）",
  "common.loading": "加载中…",
  "common.error": "出错了：{message}",
  "common.none": "暂无内容。",
  "common.save": "保存",
  "common.cancel": "取消",
  "common.reason": "原因",
  "common.open": "打开",
  "common.live": "实时",
  "common.offline": "正在重连…",
  "common.refresh": "刷新",
  "common.unknown": "未知",
  "desk.title": "来电台",
  "desk.query": "电话、邮箱或姓名",
  "desk.find": "查找",
  "desk.results": "匹配结果",
  "desk.nomatch": "没有匹配的客户。记录来电后，来电人将成为潜在客户。",
  "desk.lead_name": "来电人姓名",
  "desk.lead_phone": "来电人电话",
  "desk.lead_email": "来电人邮箱",
  "card.tier": "等级",
  "card.owner": "负责人",
  "card.band": "健康区间",
  "card.open_cases": "未结案件",
  "card.open_tasks": "未完成任务",
  "card.view360": "打开客户全景",
  "fb.title": "记录反馈",
  "fb.type": "类型",
  "fb.category": "类别",
  "fb.severity": "严重程度",
  "fb.channel": "渠道",
  "fb.description": "描述",
  "fb.submit": "记录",
  "fb.recorded": "已记录：{type}（{id}）。",
  "fb.type.complaint": "投诉",
  "fb.type.praise": "表扬",
  "fb.type.suggestion": "建议",
  "fb.type.inquiry": "咨询",
  "c360.profile": "资料",
  "field.name": "名称",
  "field.email": "邮箱",
  "field.phone": "电话",
  "field.owner": "负责人",
  "field.region": "地区",
  "field.industry": "行业",
  "field.lifecycle": "生命周期阶段",
  "field.status": "状态",
  "dim.all": "全部客户",
  "dim.tier": "等级",
  "dim.region": "地区",
  "dim.industry": "行业",
  "dim.owner": "负责人",
  "period.day": "日",
  "period.week": "周",
  "period.month": "月",
  "c360.activities": "活动",
  "c360.feedback": "反馈与案件",
  "c360.scores": "评分",
  "c360.trend": "评分趋势",
  "c360.changes": "评分变化原因",
  "c360.tasks": "任务",
  "c360.messages": "已发送消息",
  "c360.edit": "编辑客户卡片",
  "c360.saved": "已保存。",
  "c360.conflict": "在您编辑期间，其他人修改了该客户。",
  "c360.conflict_who": "{actor} 于 {at} 修改了 {fields}。",
  "c360.reload": "载入最新版本后重新编辑",
  "c360.partial": "部分视图缺失：{parts}。",
  "score.satisfaction": "满意度",
  "score.loyalty": "忠诚度",
  "score.value": "价值",
  "score.churn_risk": "流失风险",
  "score.health": "健康度",
  "score.rose": "{score}从 {from} 升至 {to}",
  "score.fell": "{score}从 {from} 降至 {to}",
  "score.band": "区间 {from} → {to}",
  "score.cause": "原因：{cause}",
  "score.first": "首次评分：健康度 {to}",
  "task.open": "待领取",
  "task.claimed": "处理中",
  "task.closed": "已关闭",
  "task.claim": "领取",
  "task.complete": "完成",
  "task.cancel": "取消任务",
  "task.outcome": "处理结果",
  "task.due": "截止 {at}",
  "task.overdue": "已逾期",
  "task.escalated": "已升级（第 {level} 级）",
  "work.title": "我的工作",
  "work.mine": "我的任务",
  "work.team": "团队队列",
  "cases.title": "投诉案件",
  "cases.sla": "服务时限",
  "cases.due_in": "剩余 {time}",
  "cases.late_by": "已超时 {time}",
  "cases.met": "已达标",
  "cases.paused": "已暂停",
  "cases.move": "转为",
  "cases.notes": "备注",
  "cases.add_note": "添加备注",
  "cases.history": "历史",
  "cases.reopen": "重新打开",
  "cases.reopened": "已重新打开",
  "cases.pause": "暂停计时（等待客户）",
  "cases.pause_reason": "等待内容",
  "cases.resume": "恢复计时",
  "cases.surveys": "针对此案件的调查回复",
  "cases.cause": "原因",
  "cases.remedy": "补救措施",
  "cases.compensation": "补偿金额（可选）",
  "cases.currency": "币种",
  "dash.title": "仪表盘",
  "dash.indicators": "指标",
  "dash.dimension": "维度",
  "dash.period": "周期",
  "dash.thresholds": "阈值",
  "dash.alerts": "未关闭告警",
  "dash.themes": "反复出现的问题",
  "dash.escalate": "上报管理层",
  "dash.complaints": "按类别统计投诉",
  "admin.title": "管理",
  "admin.playbooks": "处理预案",
  "admin.sla": "服务时限策略",
  "admin.tiers": "等级规则",
  "admin.scorecard": "评分卡",
  "admin.rescore": "全部重新评分",
  "admin.templates": "消息模板",
  "admin.webhooks": "Webhook",
  "admin.deliveries": "投递记录",
  "admin.replay": "重新投递",
  "admin.progress": "运行{status}：{done}/{total}",
};

const DICTS: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zh };
const STORAGE_KEY = "crm.locale";

let current: Locale = "en";
const listeners = new Set<() => void>();

export function detectLocale(stored: string | null, languages: readonly string[]): Locale {
  if (stored === "en" || stored === "zh-CN") return stored;
  return languages.some((l) => l.toLowerCase().startsWith("zh")) ? "zh-CN" : "en";
}

export function initLocale(): Locale {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    /* storage blocked: not remembered */
  }
  current = detectLocale(stored, typeof navigator === "undefined" ? [] : navigator.languages ?? []);
  document.documentElement.lang = current;
  return current;
}

export function getLocale(): Locale {
  return current;
}

export function setLocale(locale: Locale): void {
  current = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    /* not remembered */
  }
  if (typeof document !== "undefined") document.documentElement.lang = locale;
  listeners.forEach((l) => l());
}

export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function translate(locale: Locale, key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = DICTS[locale][key] ?? en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(current, key, params);
}

/** Every key of English has a Chinese text (the test checks it). */
export function missingKeys(): MessageKey[] {
  return (Object.keys(en) as MessageKey[]).filter((k) => !zh[k]);
}

export function formatDateTime(iso: string | null | undefined, locale: Locale = current, timeZone?: string): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(new Date(iso));
}

export function formatNumber(value: number | null | undefined, digits = 0, locale: Locale = current): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

/** "2 h 05 min" / "2 小时 05 分钟" style, for SLA countdowns. */
export function formatDuration(ms: number, locale: Locale = current): string {
  const total = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const zhUnits = locale === "zh-CN";
  const parts: string[] = [];
  if (days) parts.push(zhUnits ? `${days} 天` : `${days} d`);
  if (days || hours) parts.push(zhUnits ? `${hours} 小时` : `${hours} h`);
  parts.push(zhUnits ? `${String(minutes).padStart(2, "0")} 分` : `${String(minutes).padStart(2, "0")} min`);
  if (!days && !hours) parts.push(zhUnits ? `${String(seconds).padStart(2, "0")} 秒` : `${String(seconds).padStart(2, "0")} s`);
  return parts.join(" ");
}
