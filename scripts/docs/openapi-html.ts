// The API reference page: the OpenAPI document (generated from the contract's route table and
// valibot schemas, so it matches what the worker validates) rendered as readable HTML. Every
// operation gets an anchor `op-<method>-<path>` so the test can check that none is missing.
import type { DocLanguage } from '../../worker/src/docs/pages.ts';
import { escapeHtml } from './page.ts';

type Schema = {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  nullable?: boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
};
type Parameter = { name: string; in: string; required?: boolean; schema?: Schema };
type Operation = {
  summary?: string;
  'x-scopes'?: string[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
};
export type OpenApi = {
  info: { title: string; description?: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

const T = {
  en: {
    intro:
      'Everything the dashboard does is in this API. Authenticate with the session cookie (browser) or `Authorization: Bearer rsk_…` (an API key with scope agent, read or full). The machine-readable document is',
    errors: 'Every error has the same envelope, with a code from a closed set:',
    paging:
      'Lists that grow with an account come a page at a time: `?limit=` (1–100, default 100; 50 for backups, alerts and the audit log) and `?cursor=` in, `{"items": […], "nextCursor": "…"}` out. Pass `nextCursor` as `cursor` for the next page; `null` means the last one. The cursor is opaque and only valid for the list that wrote it; a cursor or limit of another shape is a 422 naming the field.',
    contents: 'Operations',
    scopes: 'Allowed for',
    public: 'no login',
    parameters: 'Parameters',
    body: 'Request body (JSON)',
    response: 'Response',
    empty: 'no body',
    field: 'field',
    type: 'type',
    required: 'required',
    yes: 'yes',
    no: 'no',
    notes: 'constraints',
    descriptions: '',
  },
  de: {
    intro:
      'Alles, was das Dashboard kann, geht über diese API. Anmeldung mit dem Sitzungs-Cookie (Browser) oder `Authorization: Bearer rsk_…` (ein API-Schlüssel mit dem Bereich agent, read oder full). Das maschinenlesbare Dokument ist',
    errors: 'Jeder Fehler hat dieselbe Hülle, mit einem Code aus einer festen Liste:',
    paging:
      'Listen, die mit einem Konto wachsen, kommen seitenweise: `?limit=` (1–100, Standard 100; 50 bei Backups, Alarmen und dem Audit-Log) und `?cursor=` hinein, `{"items": […], "nextCursor": "…"}` heraus. `nextCursor` als `cursor` übergeben ergibt die nächste Seite; `null` heißt: die letzte. Der Cursor ist undurchsichtig und gilt nur für die Liste, die ihn geschrieben hat; ein Cursor oder Limit anderer Form ergibt 422 mit dem Feldnamen.',
    contents: 'Operationen',
    scopes: 'Erlaubt für',
    public: 'ohne Anmeldung',
    parameters: 'Parameter',
    body: 'Anfrage (JSON)',
    response: 'Antwort',
    empty: 'ohne Inhalt',
    field: 'Feld',
    type: 'Typ',
    required: 'Pflicht',
    yes: 'ja',
    no: 'nein',
    notes: 'Einschränkungen',
    descriptions: 'Die Kurzbeschreibungen der Operationen stammen aus der Routentabelle und sind englisch.',
  },
} satisfies Record<DocLanguage, Record<string, string>>;

export function operationId(method: string, path: string): string {
  return `op-${method}-${path
    .replace(/[{}]/g, '')
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`;
}

function inlineCode(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function typeOf(s: Schema): string {
  if (s.$ref) return s.$ref.split('/').at(-1) ?? 'object';
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(typeOf).join(' | ');
  let t = s.type ?? 'any';
  if (t === 'array' && s.items) t = `${typeOf(s.items)}[]`;
  if (s.format) t += ` (${s.format})`;
  if (s.nullable) t += ' | null';
  return t;
}

function constraints(s: Schema): string {
  const c: string[] = [];
  if (s.enum) c.push(s.enum.map((v) => JSON.stringify(v)).join(', '));
  if (s.minimum !== undefined) c.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) c.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) c.push(`length ≥ ${s.minLength}`);
  if (s.maxLength !== undefined) c.push(`length ≤ ${s.maxLength}`);
  if (s.minItems !== undefined) c.push(`items ≥ ${s.minItems}`);
  if (s.maxItems !== undefined) c.push(`items ≤ ${s.maxItems}`);
  if (s.pattern) c.push(`pattern ${s.pattern}`);
  return c.join('; ');
}

/** One table row per field, nested objects as `parent.child` and arrays as `list[].child`. */
function fieldRows(s: Schema, prefix: string, lang: DocLanguage, depth = 0): string[] {
  const t = T[lang];
  const objectOf = s.type === 'array' ? s.items : s;
  const props = objectOf?.properties;
  if (!props || depth > 6) return [];
  const arrayMark = s.type === 'array' ? '[]' : '';
  return Object.entries(props).flatMap(([name, child]) => {
    const path = `${prefix}${arrayMark}${prefix || arrayMark ? '.' : ''}${name}`;
    const required = objectOf?.required?.includes(name) ? t.yes : t.no;
    const row = `<tr><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(typeOf(child))}</td><td>${required}</td><td>${escapeHtml(constraints(child))}</td></tr>`;
    return [row, ...fieldRows(child, path, lang, depth + 1)];
  });
}

function schemaTable(s: Schema, lang: DocLanguage): string {
  const t = T[lang];
  const rows = fieldRows(s, '', lang);
  if (rows.length === 0) return `<p>${escapeHtml(typeOf(s))}</p>`;
  return `<table><thead><tr><th>${t.field}</th><th>${t.type}</th><th>${t.required}</th><th>${t.notes}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function renderOperation(
  method: string,
  path: string,
  op: Operation,
  base: string,
  lang: DocLanguage,
): string {
  const t = T[lang];
  const parts = [
    `<section class="op" id="${operationId(method, path)}">`,
    `<h3><span class="method">${method.toUpperCase()}</span> <code>${escapeHtml(base + path)}</code></h3>`,
    op.summary ? `<p>${inlineCode(op.summary)}</p>` : '',
    `<p>${t.scopes}: ${op['x-scopes']?.length ? op['x-scopes'].map((s) => `<code>${escapeHtml(s)}</code>`).join(', ') : t.public}</p>`,
  ];
  if (op.parameters?.length) {
    const rows = op.parameters
      .map(
        (p) =>
          `<tr><td><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)})</td><td>${escapeHtml(p.schema ? typeOf(p.schema) : '')}</td><td>${p.required ? t.yes : t.no}</td><td>${escapeHtml(p.schema ? constraints(p.schema) : '')}</td></tr>`,
      )
      .join('');
    parts.push(
      `<h4>${t.parameters}</h4><table><thead><tr><th>${t.field}</th><th>${t.type}</th><th>${t.required}</th><th>${t.notes}</th></tr></thead><tbody>${rows}</tbody></table>`,
    );
  }
  const body = op.requestBody?.content['application/json']?.schema;
  if (body) parts.push(`<h4>${t.body}</h4>${schemaTable(body, lang)}`);
  for (const [status, r] of Object.entries(op.responses)) {
    if (status === 'default') continue;
    const schema = r.content?.['application/json']?.schema;
    parts.push(
      `<h4>${t.response} ${escapeHtml(status)}</h4>${schema ? schemaTable(schema, lang) : `<p>${t.empty}</p>`}`,
    );
  }
  parts.push('</section>');
  return parts.filter(Boolean).join('\n');
}

export function renderOpenApi(doc: OpenApi, lang: DocLanguage): string {
  const t = T[lang];
  const base = doc.servers?.[0]?.url ?? '/api/v1';
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  const errorCodes = (doc.components?.schemas?.Error?.properties?.error?.properties?.code?.enum ??
    []) as string[];
  const toc = ops
    .map(
      (o) =>
        `<li><a href="#${operationId(o.method, o.path)}"><span class="method">${o.method.toUpperCase()}</span> <code>${escapeHtml(o.path)}</code></a></li>`,
    )
    .join('');
  return [
    `<h1>${lang === 'de' ? 'API-Referenz' : 'API reference'}</h1>`,
    `<p>${inlineCode(t.intro)} <a href="${escapeHtml(base)}/openapi.json"><code>${escapeHtml(base)}/openapi.json</code></a>.</p>`,
    t.descriptions ? `<p>${t.descriptions}</p>` : '',
    `<p>${t.errors}</p><pre><code>{"error":{"code":"validation_failed","message":"…","fields":{"name":"…"}}}</code></pre>`,
    `<p>${errorCodes.map((c) => `<code>${escapeHtml(c)}</code>`).join(', ')}</p>`,
    `<p>${inlineCode(t.paging)}</p>`,
    `<h2 id="operations">${t.contents}</h2><ul>${toc}</ul>`,
    ...ops.map((o) => renderOperation(o.method, o.path, o.op, base, lang)),
  ]
    .filter(Boolean)
    .join('\n');
}
