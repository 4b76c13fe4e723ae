import { describe, expect, it } from "vitest";
import { setLocale } from "./i18n";
import { describeChange, feedbackFor } from "./scores";
import type { Feedback, ScoreChange } from "./types";

const change: ScoreChange = {
  id: "h1",
  satisfaction: 52.5,
  loyalty: 60,
  value: 70,
  churn_risk: 40,
  health: 58,
  band: "watch",
  previous_satisfaction: 80,
  previous_loyalty: 60,
  previous_value: 70,
  previous_churn_risk: 30,
  previous_health: 72,
  previous_band: "healthy",
  changed: ["satisfaction", "churn_risk", "health"],
  cause_event_id: "e1",
  cause_event_type: "crm.feedback.received.v1",
  rescore_run_id: null,
  computed_at: "2026-12-05T10:00:02Z",
};

describe("score changes in words", () => {
  it("says what moved, the band change and the cause", () => {
    setLocale("en");
    expect(describeChange(change, "en")).toBe(
      "Satisfaction fell from 80.0 to 52.5; Churn risk rose from 30.0 to 40.0; Health fell from 72.0 to 58.0; " +
        "band healthy → watch; because of new feedback",
    );
    setLocale("zh-CN");
    expect(describeChange(change, "zh-CN")).toContain("满意度从 80.0 降至 52.5");
    setLocale("en");
  });
  it("links a feedback-caused change to the latest feedback received before it", () => {
    const fb = (id: string, at: string) => ({ id, received_at: at }) as Feedback;
    const items = [fb("new", "2026-12-05T10:00:01Z"), fb("old", "2026-12-04T10:00:00Z"), fb("after", "2026-12-05T11:00:00Z")];
    expect(feedbackFor(change, items)?.id).toBe("new");
    expect(feedbackFor({ ...change, cause_event_type: "crm.contact.updated.v1" }, items)).toBeNull();
  });
});
