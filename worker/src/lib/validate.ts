import { isStorableText, UNSTORABLE_TEXT } from '@resistro/contract';
import type { Context } from 'hono';
import * as v from 'valibot';
import { ApiError } from '../errors.ts';

/** Field name → first problem, never the submitted value. */
export function fieldErrors(issues: v.BaseIssue<unknown>[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const path = v.getDotPath(issue) ?? '_';
    if (fields[path]) continue;
    // valibot's default messages quote the received value; keep only ours.
    fields[path] =
      issue.input === undefined && issue.kind === 'schema'
        ? 'is required'
        : issue.message.startsWith('Invalid')
          ? `is invalid (expected ${issue.expected ?? 'another value'})`
          : issue.message;
  }
  return fields;
}

/**
 * The paths of strings PostgreSQL cannot store (NUL, lone surrogates), keys included. The
 * contract's Text refuses them field by field; this catches a field that was declared without it,
 * so no request can reach the database with one (a 500 there).
 */
export function unstorablePaths(value: unknown, path = '', found: string[] = []): string[] {
  if (typeof value === 'string') {
    if (!isStorableText(value)) found.push(path || '_');
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) unstorablePaths(item, path ? `${path}.${i}` : String(i), found);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (!isStorableText(key)) found.push(at);
      else unstorablePaths(item, at, found);
    }
  }
  return found;
}

export function parseInput<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  const fields = result.success
    ? Object.fromEntries(unstorablePaths(result.output).map((path) => [path, UNSTORABLE_TEXT]))
    : fieldErrors(result.issues);
  if (!result.success || Object.keys(fields).length > 0) {
    const summary = Object.entries(fields)
      .slice(0, 3)
      .map(([k, m]) => `${k} ${m}`)
      .join('; ');
    throw new ApiError('validation_failed', `Invalid input: ${summary}`, fields);
  }
  return result.output;
}

export async function readBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    throw new ApiError('bad_request', 'The request body must be JSON (Content-Type: application/json)');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError('bad_request', 'The request body is not valid JSON');
  }
  return parseInput(schema, body);
}

export function readQuery<S extends v.GenericSchema>(c: Context, schema: S): v.InferOutput<S> {
  return parseInput(schema, c.req.query());
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID cannot name anything: 404, like an id of another account. */
export function readId(c: Context, what: string, name = 'id'): string {
  const id = c.req.param(name) ?? '';
  if (!UUID.test(id)) throw new ApiError('not_found', `${what} not found`);
  return id.toLowerCase();
}
