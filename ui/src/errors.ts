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

/** An invalid input in words: the field's label, then the rule broken, or core's sentence
 * (`problem`, without the field it starts with) when the UI has no words for the rule. */
export function invalidText(field: string, rule: Rule | null | undefined, problem: string, t: T, te: Te): string {
  const detail = ruleText(rule, t, te) ?? problem.replace(`${field}: `, "");
  return `${fieldLabel(field, t, te)}：${detail}`;
}

/** What to show for a failed call. */
export function errorText(e: unknown, t: T, te: Te): string {
  if (!isCommandError(e)) return String(e);
  if (e.kind === "invalid") return invalidText(e.params.field, e.params.rule, e.message, t, te);
  const key = `errors.kind.${e.kind}`;
  if (!te(key)) return e.message;
  const params = "params" in e ? (e.params as Record<string, unknown>) : {};
  return t(key, { ...params, detail: e.message });
}
