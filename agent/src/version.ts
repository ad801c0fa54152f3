import pkg from '../package.json' with { type: 'json' };

/** The agent's version, reported in every heartbeat and in the User-Agent of every request. */
export const VERSION: string = pkg.version;
