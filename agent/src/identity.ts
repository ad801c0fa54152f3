// The agent's identity: an X25519 key pair made on first use and kept in the state directory.
// The control plane knows the agent by its public key; the dashboard seals database passwords to
// it, and only this private key opens them.
// SECURITY: identity.json is 0600 in a 0700 directory, and is created exclusively so that two
// processes starting at once cannot end up with different identities.

import { open, readFile } from 'node:fs/promises';
import { type AgentKeyPair, generateAgentKeyPair } from '@resistro/contract';
import type { StateDir } from './state.ts';

type IdentityFile = AgentKeyPair & { createdAt: string };

export async function loadIdentity(state: StateDir): Promise<AgentKeyPair | undefined> {
  try {
    const parsed = JSON.parse(await readFile(state.path('identity.json'), 'utf8')) as Partial<IdentityFile>;
    if (typeof parsed.publicKey !== 'string' || typeof parsed.privateKey !== 'string') {
      throw new Error(`${state.path('identity.json')} is damaged (no key pair in it)`);
    }
    return { publicKey: parsed.publicKey, privateKey: parsed.privateKey };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function loadOrCreateIdentity(state: StateDir): Promise<AgentKeyPair> {
  const existing = await loadIdentity(state);
  if (existing) return existing;
  const pair = await generateAgentKeyPair();
  try {
    const handle = await open(state.path('identity.json'), 'wx', 0o600);
    await handle.writeFile(
      `${JSON.stringify({ ...pair, createdAt: new Date().toISOString() } satisfies IdentityFile, null, 2)}\n`,
    );
    await handle.sync();
    await handle.close();
    return pair;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const theirs = await loadIdentity(state);
      if (theirs) return theirs;
    }
    throw error;
  }
}
