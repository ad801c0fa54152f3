import { describe, expect, it } from 'vitest';
import { suggestRestoreName } from './restore-dialog.tsx';

describe('the suggested name of a new database', () => {
  const day = new Date('2026-12-02T08:00:00Z');
  it('is the database name, _restored_ and the date', () => {
    expect(suggestRestoreName('shop', day)).toBe('shop_restored_2026_12_02');
  });
  it('keeps only what every engine takes unquoted, and stays within 63 characters', () => {
    expect(suggestRestoreName('my-shop.eu', day)).toBe('my_shop_eu_restored_2026_12_02');
    expect(suggestRestoreName('2026sales', day)).toBe('db_2026sales_restored_2026_12_02');
    const long = suggestRestoreName('x'.repeat(80), day);
    expect(long).toHaveLength(63);
    expect(long.endsWith('_restored_2026_12_02')).toBe(true);
  });
});
