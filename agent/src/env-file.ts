// The KEY=VALUE syntax of /etc/resistro-agent/env: what people write by hand and what shells and
// systemd accept. Blank lines and # comments; an optional `export `; values bare (trimmed, a
// " #" starts a comment), in 'single quotes' (literal) or "double quotes" (\" \\ \n \$ escapes).
// SECURITY: errors name the line and the key, never the value: it may be a secret.

export type EnvFileResult = {
  values: Map<string, { value: string; line: number }>;
  errors: string[];
};

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvFile(text: string): EnvFileResult {
  const values = new Map<string, { value: string; line: number }>();
  const errors: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    let rest = raw.trim();
    if (rest === '' || rest.startsWith('#')) return;
    if (rest.startsWith('export ')) rest = rest.slice('export '.length).trimStart();
    const eq = rest.indexOf('=');
    if (eq <= 0) {
      errors.push(`line ${line}: expected KEY=VALUE`);
      return;
    }
    const key = rest.slice(0, eq).trim();
    if (!KEY.test(key)) {
      errors.push(`line ${line}: "${key.slice(0, 40)}" is not a valid variable name`);
      return;
    }
    const parsed = parseValue(rest.slice(eq + 1).trim());
    if (typeof parsed !== 'string') {
      errors.push(`line ${line}: the value of ${key} ${parsed.error}`);
      return;
    }
    values.set(key, { value: parsed, line });
  });
  return { values, errors };
}

function parseValue(text: string): string | { error: string } {
  const quote = text[0];
  if (quote === "'") {
    const end = text.indexOf("'", 1);
    if (end < 0) return { error: 'has an opening quote but no closing one' };
    return afterQuote(text, end) ?? text.slice(1, end);
  }
  if (quote === '"') {
    let out = '';
    for (let i = 1; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') return afterQuote(text, i) ?? out;
      if (c === '\\' && i + 1 < text.length) {
        const next = text[++i]!;
        out +=
          next === 'n'
            ? '\n'
            : next === '"' || next === '\\' || next === '$' || next === '`'
              ? next
              : `\\${next}`;
        continue;
      }
      out += c;
    }
    return { error: 'has an opening quote but no closing one' };
  }
  const comment = text.search(/\s#/);
  return (comment >= 0 ? text.slice(0, comment) : text).trim();
}

function afterQuote(text: string, end: number): { error: string } | undefined {
  const tail = text.slice(end + 1).trim();
  if (tail === '' || tail.startsWith('#')) return undefined;
  return { error: 'has text after its closing quote' };
}
