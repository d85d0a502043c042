/**
 * Subject templates of the NATS sink (`events.{cluster}.{name}`).
 */

/** Turns a record into its subject. */
export type SubjectFn = (cluster: string, name: string) => string;

/**
 * Compiles a template. Values are made safe as one subject token: `.`, whitespace and the
 * wildcards `*` and `>` become `_`, and an empty value becomes `_`.
 */
export function compileSubject(template: string): SubjectFn {
  const parts = template.split(/(\{cluster\}|\{name\})/);
  if (parts.length === 1) return () => template;
  return (cluster, name) => {
    let out = '';
    for (const p of parts) {
      if (p === '{cluster}') out += subjectToken(cluster);
      else if (p === '{name}') out += subjectToken(name);
      else out += p;
    }
    return out;
  };
}

/**
 * Whether every subject the template makes is one a client may publish to: tokens separated
 * by dots, none empty, no whitespace and no wildcards (`*`, `>`). A filled-in value is always
 * one such token, so `_` stands in for it.
 */
export function isValidTemplate(template: string): boolean {
  const subject = template.replace(/\{cluster\}|\{name\}/g, '_');
  return subject.split('.').every((t) => t !== '' && !/[\s*>]/.test(t));
}

/** One subject token holding `value`. */
export function subjectToken(value: string): string {
  return value === '' ? '_' : value.replace(/[.\s*>]/g, '_');
}
