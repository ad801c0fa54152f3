/// <reference types="node" />
// The source scan needs node:fs; vitest runs this file under Node, not workerd.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as contract from '@resistro/contract';
import { describe, expect, it } from 'vitest';
import {
  isTranslatedFieldMessage,
  isTranslatedMessage,
  localizeError,
  localizeFieldMessage,
} from './api-messages.ts';

/** Every `message` string inside the contract's valibot schemas (pipes, objects, variants…). */
function schemaMessages(): Set<string> {
  const found = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const n = node as Record<string, unknown>;
    if (typeof n.message === 'string' && typeof n.kind === 'string') found.add(n.message);
    for (const key of ['pipe', 'entries', 'options', 'item', 'wrapped', 'key', 'value', 'rest', 'items']) {
      const child = n[key];
      if (Array.isArray(child)) child.forEach(walk);
      else if (child && typeof child === 'object') {
        if ('kind' in child) walk(child);
        else Object.values(child).forEach(walk);
      }
    }
  };
  for (const value of Object.values(contract)) walk(value);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

const STRING = String.raw`('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\`[^\`]*\`)`;
/** A thrown text as the handler sees it: template parts become a sample value. */
const sample = (literal: string) =>
  literal
    .slice(1, -1)
    .replace(/\$\{[^}]*\}/g, '7')
    .replaceAll("\\'", "'");

/** The English texts the worker's sources throw: `new ApiError(code, text, { field: text })`. */
function thrownTexts(): { messages: string[]; fields: string[]; things: string[] } {
  const messages: string[] = [];
  const fields: string[] = [];
  const things: string[] = [];
  const call = new RegExp(String.raw`new ApiError\(\s*'\w+',\s*${STRING}(?:\s*,\s*\{([^}]*)\})?`, 'g');
  const field = new RegExp(String.raw`[\w'"]+:\s*${STRING}`, 'g');
  for (const file of sourceFiles(join(import.meta.dirname, '..'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(call)) {
      messages.push(sample(m[1]!));
      for (const f of (m[2] ?? '').matchAll(field)) fields.push(sample(f[1]!));
    }
    for (const m of text.matchAll(/(?:notFound|readId)\((?:c,\s*)?'([^']+)'/g)) things.push(m[1]!);
  }
  return { messages, fields, things };
}

describe('API error texts', () => {
  it('has German for every message of the contract schemas', () => {
    const messages = [...schemaMessages()];
    expect(messages.length).toBeGreaterThan(30);
    expect(messages.filter((m) => !isTranslatedFieldMessage(m))).toEqual([]);
  });

  it('has German for every text the worker throws', () => {
    const { messages, fields, things } = thrownTexts();
    expect(messages.length).toBeGreaterThan(40);
    // "Invalid input: <field> <problem>" is rebuilt from the (translated) fields.
    const untranslated = messages.filter((m) => !m.startsWith('Invalid input: ') && !isTranslatedMessage(m));
    expect(untranslated).toEqual([]);
    expect(fields.filter((m) => !isTranslatedFieldMessage(m))).toEqual([]);
    const notFound = things.map((w) => localizeError({ code: 'not_found', message: `${w} not found` }, 'de'));
    expect(notFound.filter((e) => e.message.startsWith('Eintrag'))).toEqual([]);
  });

  it('says the plan limit with the right plural in both languages', () => {
    const one = {
      code: 'plan_limit' as const,
      message: 'The Starter plan allows 1 database(s); upgrade to add more',
    };
    const many = {
      code: 'plan_limit' as const,
      message: 'The Business plan allows 5 database(s); delete some first',
    };
    expect(localizeError(one, 'de').message).toBe(
      'Der Plan Starter erlaubt 1 Datenbank; wechseln Sie in einen größeren Plan, um weitere hinzuzufügen',
    );
    expect(localizeError(one, 'en').message).toBe('The Starter plan allows 1 database; upgrade to add more');
    expect(localizeError(many, 'de').message).toBe(
      'Der Plan Business erlaubt 5 Datenbanken; löschen Sie zuerst Datenbanken',
    );
    expect(localizeError(many, 'en').message).toBe('The Business plan allows 5 databases; delete some first');
  });

  it('keeps the code and the field names, and translates the field texts', () => {
    const error = {
      code: 'validation_failed' as const,
      message:
        'Invalid input: email must be a valid e-mail address; password must have at least 10 characters',
      fields: { email: 'must be a valid e-mail address', password: 'must have at least 10 characters' },
    };
    expect(localizeError(error, 'de')).toEqual({
      code: 'validation_failed',
      message:
        'Ungültige Eingabe: email muss eine gültige E-Mail-Adresse sein; password muss mindestens 10 Zeichen haben',
      fields: {
        email: 'muss eine gültige E-Mail-Adresse sein',
        password: 'muss mindestens 10 Zeichen haben',
      },
    });
    expect(localizeError(error, 'en')).toEqual(error);
  });

  it('answers a German caller in German even for a text nobody translated', () => {
    const error = { code: 'conflict' as const, message: 'Some brand-new English text' };
    expect(localizeError(error, 'de').message).toMatch(/^Die Aktion passt nicht/);
    expect(localizeError(error, 'en').message).toBe('Some brand-new English text');
    expect(localizeFieldMessage('a brand-new field text', 'de')).toBe('ist ungültig');
  });
});

describe('delivery log texts', () => {
  it('translates why a delivery failed and keeps the receiver answer as it came', async () => {
    const { localizeDeliveryError } = await import('./delivery-errors.ts');
    expect(localizeDeliveryError('Slack webhook: HTTP 404 (no_service)', 'de')).toBe(
      'Slack-Webhook: HTTP 404 (no_service)',
    );
    expect(localizeDeliveryError('webhook: no answer within 10 s', 'de')).toBe(
      'Webhook: keine Antwort innerhalb von 10 s',
    );
    expect(localizeDeliveryError('The channel was deleted before this message was delivered', 'de')).toBe(
      'Der Kanal wurde gelöscht, bevor diese Nachricht zugestellt war',
    );
    expect(localizeDeliveryError('webhook: HTTP 503', 'en')).toBe('webhook: HTTP 503');
  });
});
