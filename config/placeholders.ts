/**
 * argv templates: `{name}` anywhere in an element is replaced by a value; an
 * element that is exactly `{name:flag}` becomes `--name` or `--no-name`
 * (underscores → dashes), the form vLLM's boolean flags take. Values are
 * substituted per element, never through a shell, so nothing is re-split.
 */

const PLACEHOLDER_RE = /\{([A-Za-z_][A-Za-z0-9_]*)(?::(flag))?\}/g;
const FLAG_ONLY_RE = /^\{([A-Za-z_][A-Za-z0-9_]*):flag\}$/;

/** Names used by a template element, in order. */
export function placeholdersIn(element: string): string[] {
  return [...element.matchAll(PLACEHOLDER_RE)].map((m) => m[1] as string);
}

/** The factor of an element that is exactly `{name:flag}`, else undefined. */
export function flagOnlyName(element: string): string | undefined {
  return FLAG_ONLY_RE.exec(element)?.[1];
}

export type TemplateValue = string | number | boolean;

function flagName(name: string): string {
  return name.replaceAll("_", "-");
}

/**
 * Fill one argv template. Unknown names are returned in `missing` rather than
 * thrown, so the caller can point at the offending element in the file.
 */
export function fillTemplate(
  template: readonly string[],
  values: Readonly<Record<string, TemplateValue | undefined>>,
): { argv: string[]; missing: { index: number; name: string }[] } {
  const argv: string[] = [];
  const missing: { index: number; name: string }[] = [];
  template.forEach((element, index) => {
    const flagOnly = FLAG_ONLY_RE.exec(element);
    if (flagOnly) {
      const name = flagOnly[1] as string;
      const value = values[name];
      if (value === undefined) missing.push({ index, name });
      else
        argv.push(
          value === true || value === "true" ? `--${flagName(name)}` : `--no-${flagName(name)}`,
        );
      return;
    }
    argv.push(
      element.replace(PLACEHOLDER_RE, (whole, name: string) => {
        const value = values[name];
        if (value === undefined) {
          missing.push({ index, name });
          return whole;
        }
        return String(value);
      }),
    );
  });
  return { argv, missing };
}
