// Cursors come back from clients: only what encodeCursor wrote is taken, anything else is a 422
// naming the cursor (never a value that fails in PostgreSQL).
import { describe, expect, test } from 'vitest';
import { ApiError } from '../errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const ID = '0b0e1c4e-1d2f-4a3b-8c4d-5e6f7a8b9c0d';
const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '');

describe('cursor', () => {
  test('round-trips what it encodes', () => {
    const at = new Date('2024-05-01T02:00:00.123Z');
    expect(decodeCursor(encodeCursor(at, ID))).toEqual({ at, id: ID });
  });

  test.each([
    ['an id of 36 dashes', b64({ t: '2024-05-01T02:00:00.000Z', id: '-'.repeat(36) })],
    ['a number as t', b64({ t: 12, id: ID })],
    ['a numeric string as t', b64({ t: '12', id: ID })],
    ['year 275760', b64({ t: '+275760-09-13T00:00:00.000Z', id: ID })],
    ['year 0', b64({ t: '0000-01-01T00:00:00.000Z', id: ID })],
    ['an offset of -23:00', b64({ t: '2024-01-01T00:00:00-23:00', id: ID })],
    ['a day that does not exist', b64({ t: '2023-02-29T00:00:00.000Z', id: ID })],
    ['a NUL in t', b64({ t: '2024-05-01T02:00:00.000Z\0', id: ID })],
    ['a NUL in id', b64({ t: '2024-05-01T02:00:00.000Z', id: `${ID.slice(0, 35)}\0` })],
    ['JSON null', b64(null)],
    ['a JSON array', b64(['2024-05-01T02:00:00.000Z', ID])],
    ['a JSON number', b64(12)],
    ['not base64', '%%%'],
    ['base64 of no JSON', btoa('{"t":')],
    ['nothing', ''],
  ])('refuses %s with a 422 naming the cursor', (_what, text) => {
    let error: unknown;
    try {
      decodeCursor(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect(Object.keys((error as ApiError).fields ?? {})).toEqual(['cursor']);
  });
});
