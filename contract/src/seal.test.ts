import { describe, expect, it } from 'vitest';
import { fromBase64Url, generateAgentKeyPair, openSealed, sealToAgent, toBase64Url } from './seal.ts';

describe('sealed passwords', () => {
  it('opens with the agent key pair it was sealed to', async () => {
    const pair = await generateAgentKeyPair();
    const sealed = await sealToAgent(pair.publicKey, 'pä$$wörd 🔑');
    expect(sealed).not.toContain('pä');
    expect(await openSealed(pair, sealed)).toBe('pä$$wörd 🔑');
  });

  it('refuses another agent and any flipped bit', async () => {
    const a = await generateAgentKeyPair();
    const b = await generateAgentKeyPair();
    const sealed = await sealToAgent(a.publicKey, 'secret');
    await expect(openSealed(b, sealed)).rejects.toThrow();
    const bytes = fromBase64Url(sealed);
    bytes[50] = (bytes[50] ?? 0) ^ 1;
    await expect(openSealed(a, toBase64Url(bytes))).rejects.toThrow();
  });

  it('gives a different ciphertext each time', async () => {
    const pair = await generateAgentKeyPair();
    expect(await sealToAgent(pair.publicKey, 'x')).not.toBe(await sealToAgent(pair.publicKey, 'x'));
  });
});
