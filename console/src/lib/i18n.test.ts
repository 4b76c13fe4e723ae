// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { detectLocale, formatDateTime, formatDuration, getLocale, initLocale, missingKeys, setLocale, t, translate } from "./i18n";

describe("i18n", () => {
  beforeEach(() => localStorage.clear());

  it("has a Chinese text for every English one", () => {
    expect(missingKeys()).toEqual([]);
  });
  it("fills parameters in either language", () => {
    expect(translate("en", "task.escalated", { level: 2 })).toBe("Escalated (level 2)");
    expect(translate("zh-CN", "task.escalated", { level: 2 })).toBe("已升级（第 2 级）");
  });
  it("remembers the chosen language and sets the page language", () => {
    setLocale("zh-CN");
    expect(t("nav.desk")).toBe("来电台");
    expect(document.documentElement.lang).toBe("zh-CN");
    expect(initLocale()).toBe("zh-CN");
    setLocale("en");
    expect(initLocale()).toBe("en");
    expect(getLocale()).toBe("en");
  });
  it("starts in the browser's language when nothing is remembered", () => {
    expect(detectLocale(null, ["zh-TW", "en"])).toBe("zh-CN");
    expect(detectLocale(null, ["de-DE"])).toBe("en");
    expect(detectLocale("en", ["zh-CN"])).toBe("en");
  });
  it("shows times in the given time zone", () => {
    const iso = "2026-12-05T23:30:00Z";
    expect(formatDateTime(iso, "en", "Asia/Shanghai")).toContain("Dec 6, 2026");
    expect(formatDateTime(iso, "en", "America/New_York")).toContain("Dec 5, 2026");
    expect(formatDateTime(iso, "zh-CN", "Asia/Shanghai")).toContain("2026年12月6日");
  });
  it("writes SLA countdowns", () => {
    expect(formatDuration(2 * 3600_000 + 5 * 60_000, "en")).toBe("2 h 05 min");
    expect(formatDuration(-(90 * 1000), "en")).toBe("01 min 30 s");
    expect(formatDuration(26 * 3600_000, "zh-CN")).toBe("1 天 2 小时 00 分");
  });
});
