import { ERROR_CODES, ROUTES, type RouteSpec } from '@resistro/contract';
import { toJsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';

// Schemas with checks JSON Schema cannot express (cron, time zone) are documented by type only.
const schema = (s: GenericSchema) => toJsonSchema(s, { errorMode: 'ignore', target: 'openapi-3.0' } as never);

const SCOPES: Record<RouteSpec['access'], string[]> = {
  public: [],
  read: ['session', 'full', 'read'],
  write: ['session', 'full'],
  agent: ['agent', 'full'],
  download: ['session', 'full', 'read', 'agent'],
};

let cached: object | undefined;

export function openApiDocument(): object {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', format: 'uuid' },
    }));
    const query = r.query
      ? Object.entries((schema(r.query) as { properties?: Record<string, unknown> }).properties ?? {}).map(
          ([name, s]) => ({ name, in: 'query', required: false, schema: s }),
        )
      : [];
    const status = String(r.status ?? 200);
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      'x-scopes': SCOPES[r.access],
      security: r.access === 'public' ? [] : [{ apiKey: [] }, { session: [] }],
      parameters: [...params, ...query],
      ...(r.body && {
        requestBody: { required: true, content: { 'application/json': { schema: schema(r.body) } } },
      }),
      responses: {
        [status]: r.response
          ? { description: 'OK', content: { 'application/json': { schema: schema(r.response) } } }
          : { description: 'OK' },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  cached = {
    openapi: '3.0.3',
    info: {
      title: 'Resistro API',
      version: '1.0.0',
      description: 'Encrypted database backups: control plane API.',
    },
    servers: [{ url: '/api/v1' }],
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'API key rsk_… with scope agent, read or full',
        },
        session: { type: 'apiKey', in: 'cookie', name: 'resistro_session' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: ERROR_CODES },
                message: { type: 'string' },
                fields: { type: 'object', additionalProperties: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
  return cached;
}
