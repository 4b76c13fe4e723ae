import { describe, expect, it } from "vitest";
import { rolesOf, type DevUser } from "./SignIn";

describe("dev sign-in", () => {
  it("offers the roles the demo user has", () => {
    const users: DevUser[] = [
      { subject: "erin", display_name: "Erin", role: "agent", teams: [] },
      { subject: "maya", display_name: "Maya", role: "service_manager", teams: [] },
      { subject: "maya", display_name: "Maya", role: "admin", teams: [] },
    ];
    expect(rolesOf(users, "erin")).toEqual(["agent"]);
    expect(rolesOf(users, "maya")).toEqual(["service_manager", "admin"]);
    expect(rolesOf(users, "nobody")).toEqual([]);
  });
});
