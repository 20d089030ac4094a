// Words for a backend error in the user's language: from its kind and parameters (and the rule
// an input broke), using the UI's own zh/en texts; core's English sentence is only the
// fallback for what has no text of its own yet.
import type { CommandError } from "./bindings/CommandError";
import type { Rule } from "./bindings/Rule";

type T = (key: string, params?: Record<string, unknown>) => string;
type Te = (key: string) => boolean;

/** True for an error the backend sent: `kind` to branch on, `message` as the fallback. */
export function isCommandError(e: unknown): e is CommandError {
  return typeof e === "object" && e !== null && "kind" in e && "message" in e;
}

/** The label of a dotted field name (`learner.id_number`), or the name itself. */
export function fieldLabel(field: string, t: T, te: Te): string {
  const key = `errors.field.${field.replace(/\./g, "_")}`;
  return te(key) ? t(key) : field;
}

/** A broken rule in words, or null when the UI has no text for it. */
export function ruleText(rule: Rule | null | undefined, t: T, te: Te): string | null {
  if (!rule) return null;
  const key = `errors.rule.${rule.rule}`;
  return te(key) ? t(key, rule as Record<string, unknown>) : null;
}

/** What to show for a failed call. */
export function errorText(e: unknown, t: T, te: Te): string {
  if (!isCommandError(e)) return String(e);
  if (e.kind === "invalid") {
    const label = fieldLabel(e.params.field, t, te);
    const rule = ruleText(e.params.rule, t, te);
    // Without a rule of its own the detail is core's sentence, after the field it names.
    const detail = rule ?? e.message.replace(`${e.params.field}: `, "");
    return `${label}：${detail}`;
  }
  const key = `errors.kind.${e.kind}`;
  if (!te(key)) return e.message;
  const params = "params" in e ? (e.params as Record<string, unknown>) : {};
  return t(key, { ...params, detail: e.message });
}
