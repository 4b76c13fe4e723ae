import { describe, expect, it } from "vitest";
import { formatPhone, normalisePhone, parseQuery } from "./phone";

describe("caller-desk query", () => {
  it("reads a mainland mobile number typed any way as one phone number", () => {
    for (const typed of ["13800138000", "138 0013 8000", "138-0013-8000", " (138) 0013 8000 "]) {
      expect(parseQuery(typed)).toEqual({ kind: "phone", value: "13800138000" });
    }
  });
  it("keeps the country code of an international number", () => {
    expect(parseQuery("+86 138 0013 8000")).toEqual({ kind: "phone", value: "+8613800138000" });
    expect(parseQuery("0044 20 7946 0001").value).toBe("+442079460001");
  });
  it("reads an email (case-insensitively) and anything else as a name", () => {
    expect(parseQuery(" Ops@Acme.Example ")).toEqual({ kind: "email", value: "ops@acme.example" });
    expect(parseQuery("Nordlicht Logistk")).toEqual({ kind: "name", value: "Nordlicht Logistk" });
    expect(parseQuery("K01")).toEqual({ kind: "name", value: "K01" });
  });
  it("formats stored numbers for reading out", () => {
    expect(formatPhone("+8613800138000")).toBe("+86 138 0013 8000");
    expect(formatPhone("+442079460001")).toBe("+44 20 7946 0001");
    expect(formatPhone("+14155550100")).toBe("+1 415 555 0100");
    expect(formatPhone(null)).toBe("");
    expect(normalisePhone("+1 (415) 555-0100")).toBe("+14155550100");
  });
});
