// The feedback vocabulary (shared/src/crm_shared/contracts/vocabulary.py).

export const CATEGORIES: Record<string, string[]> = {
  product: ["quality", "function", "features", "design", "reliability", "price_performance"],
  service: ["delivery", "complaint_handling", "commercial_dispute", "problem_resolution"],
  purchase: ["courtesy", "communication", "information", "transaction", "time"],
};
export const FEEDBACK_TYPES = ["complaint", "praise", "suggestion", "inquiry"] as const;
export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export const CHANNELS = ["phone", "web", "mobile", "email", "service_point", "social"] as const;
export const OPEN_CASE = ["received", "acknowledged", "in_progress"];

const ZH: Record<string, string> = {
  product: "产品",
  service: "服务",
  purchase: "购买",
  quality: "质量",
  function: "功能",
  features: "特性",
  design: "设计",
  reliability: "可靠性",
  price_performance: "性价比",
  delivery: "交付",
  complaint_handling: "投诉处理",
  commercial_dispute: "商务纠纷",
  problem_resolution: "问题解决",
  courtesy: "礼貌",
  communication: "沟通",
  information: "信息",
  transaction: "交易",
  time: "时效",
  low: "低",
  medium: "中",
  normal: "普通",
  urgent: "紧急",
  high: "高",
  critical: "紧急",
  phone: "电话",
  web: "网站",
  mobile: "移动端",
  email: "邮件",
  service_point: "服务网点",
  social: "社交媒体",
  survey: "调查",
  key: "重点客户",
  gold: "金牌",
  silver: "银牌",
  bronze: "铜牌",
  healthy: "健康",
  watch: "关注",
  at_risk: "有风险",
  received: "已接收",
  acknowledged: "已确认",
  in_progress: "处理中",
  resolved: "已解决",
  closed: "已关闭",
  complaint: "投诉",
  praise: "表扬",
  suggestion: "建议",
  inquiry: "咨询",
  survey_response: "调查回复",
  first_response: "首次响应",
  resolution: "解决",
};

/** A vocabulary word for people: "price_performance" -> "price performance" / "性价比". */
export function word(value: string | null | undefined, locale: "en" | "zh-CN"): string {
  if (!value) return "–";
  if (value.includes(".")) return value.split(".").map((v) => word(v, locale)).join(" › ");
  if (locale === "zh-CN" && ZH[value]) return ZH[value];
  return value.replace(/_/g, " ");
}
