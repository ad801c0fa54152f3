import pkg from '../package.json' with { type: 'json' };

/** The agent's version, reported in every heartbeat and in the User-Agent of every request. */
export const VERSION: string = pkg.version;

// Filled in by the executable's build (agent/sea/build.ts); absent when run from the sources.
declare const __RESISTRO_COMMIT__: string | undefined;

/** The commit the running agent was built from ('source' when run from a checkout). */
export const COMMIT: string = typeof __RESISTRO_COMMIT__ === 'string' ? __RESISTRO_COMMIT__ : 'source';

/** `resistro --version` and the heartbeat's version: "0.1.0 (3f2a9c1e0b7d)". */
export const VERSION_LINE = `${VERSION} (${COMMIT})`;
