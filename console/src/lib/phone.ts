// What a caller-desk query is: a phone number (in any format), an email, or a name.

export type QueryKind = "phone" | "email" | "name";

export interface ParsedQuery {
  kind: QueryKind;
  /** The value to send to the API: digits (with a leading + if given) for a phone. */
  value: string;
}

const PHONE_CHARS = /^[+\d\s().\-/]+$/;

/** Keeps a leading "+" and the digits; "00" in front is the international prefix. */
export function normalisePhone(input: string): string {
  const trimmed = input.trim();
  const digits = trimmed.replace(/\D/g, "");
  if (trimmed.startsWith("+")) return `+${digits}`;
  if (digits.startsWith("00") && digits.length > 8) return `+${digits.slice(2)}`;
  return digits;
}

export function parseQuery(input: string): ParsedQuery {
  const value = input.trim();
  if (value.includes("@")) return { kind: "email", value: value.toLowerCase() };
  const digits = value.replace(/\D/g, "");
  if (PHONE_CHARS.test(value) && digits.length >= 5) return { kind: "phone", value: normalisePhone(value) };
  return { kind: "name", value };
}

/**
 * Groups a stored E.164 number for reading out on the phone: +86 138 0013 8000, +44 20 7946 0001,
 * +1 415 555 0100. Anything else is returned as given.
 */
export function formatPhone(e164: string | null | undefined): string {
  if (!e164) return "";
  if (!/^\+\d{6,15}$/.test(e164)) return e164;
  const d = e164.slice(1);
  if (d.startsWith("86") && d.length === 13) return `+86 ${d.slice(2, 5)} ${d.slice(5, 9)} ${d.slice(9)}`;
  if (d.startsWith("1") && d.length === 11) return `+1 ${d.slice(1, 4)} ${d.slice(4, 7)} ${d.slice(7)}`;
  if (d.startsWith("44") && d.length === 12) return `+44 ${d.slice(2, 4)} ${d.slice(4, 8)} ${d.slice(8)}`;
  const cc = d.length > 10 ? d.slice(0, d.length - 10) : d.slice(0, 2);
  const rest = d.slice(cc.length);
  return `+${cc} ${rest.replace(/(\d{3,4})(?=\d{3,4}$)/, "$1 ")}`;
}
