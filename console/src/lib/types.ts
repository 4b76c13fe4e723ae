// The shapes the console reads from the four services' APIs (see their OpenAPI at /api/<service>/docs).

export interface Customer {
  id: string;
  kind: "organisation" | "person";
  name: string;
  email: string | null;
  phone: string | null;
  tier: "key" | "gold" | "silver" | "bronze";
  owner: string | null;
  region: string | null;
  industry: string | null;
  lifecycle_stage: string;
  credit_standing: string;
  tags: string[];
  language: string | null;
  timezone: string | null;
  version: number;
  status: string;
  updated_at: string;
  created_at: string;
}

export interface Task {
  id: string;
  customer_id: string;
  type: string;
  playbook: string;
  title: string;
  status: "open" | "claimed" | "done" | "cancelled";
  priority: string;
  assignee: string;
  team: string | null;
  due_at: string;
  cause_event_id: string;
  cause_event_type: string;
  correlation_id: string;
  claimed_by: string | null;
  outcome: string | null;
  closed_at: string | null;
  escalation_level: number;
  created_at: string;
}

export interface Feedback {
  id: string;
  customer_id: string | null;
  type: string;
  category: string | null;
  severity: string;
  channel: string;
  description: string;
  status: string;
  customer_tier: string;
  received_at: string;
  related_feedback_id?: string | null;
  survey?: { metric: string; score: number } | null;
}

export interface Scores {
  customer_id: string;
  satisfaction: number;
  loyalty: number;
  value: number;
  churn_risk: number;
  health: number;
  band: string;
  updated_at: string;
  recent_causes: { id: string; type: string; at: string }[];
}

export interface ScoreChange {
  id: string;
  satisfaction: number;
  loyalty: number | null;
  value: number | null;
  churn_risk: number | null;
  health: number;
  band: string;
  previous_satisfaction: number | null;
  previous_loyalty: number | null;
  previous_value: number | null;
  previous_churn_risk: number | null;
  previous_health: number | null;
  previous_band: string | null;
  changed: string[];
  cause_event_id: string;
  cause_event_type: string;
  rescore_run_id: string | null;
  computed_at: string;
}

export interface Activity {
  id: string;
  type: string;
  subject?: string | null;
  occurred_at: string;
  [key: string]: unknown;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface SlaClock {
  clock: string;
  status: "running" | "paused" | "met" | "breached";
  target_seconds: number;
  due_at: string;
  paused_at: string | null;
  met_at: string | null;
  breached_at: string | null;
}
