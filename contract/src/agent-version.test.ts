import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { CURRENT_AGENT_VERSION, isAgentOutdated, parseAgentVersion } from './agent-version.ts';

describe('agent versions', () => {
  test('the version the service hands out is the agent package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../agent/package.json', import.meta.url), 'utf8'));
    expect(CURRENT_AGENT_VERSION).toBe(pkg.version);
  });

  test('reads x.y.z with or without the commit', () => {
    expect(parseAgentVersion('0.1.0')).toEqual([0, 1, 0]);
    expect(parseAgentVersion('1.12.3 (3f2a9c1e0b7d-dirty)')).toEqual([1, 12, 3]);
    expect(parseAgentVersion('v1.2.3')).toBeUndefined();
    expect(parseAgentVersion('1.2')).toBeUndefined();
  });

  test('an older version is outdated, the same or a newer one is not, and garbage is not', () => {
    expect(isAgentOutdated('0.0.9 (abc)', '0.1.0')).toBe(true);
    expect(isAgentOutdated('0.9.9', '1.0.0')).toBe(true);
    expect(isAgentOutdated('1.2.3', '1.2.10')).toBe(true);
    expect(isAgentOutdated('1.2.10', '1.2.3')).toBe(false);
    expect(isAgentOutdated('0.1.0 (abc)', '0.1.0')).toBe(false);
    expect(isAgentOutdated('2.0.0', '1.9.9')).toBe(false);
    expect(isAgentOutdated('dev', '1.0.0')).toBe(false);
  });
});
