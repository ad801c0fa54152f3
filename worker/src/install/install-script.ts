import INSTALLER from '../../../agent/install-agent.sh';
import type { Bindings } from '../env.ts';
import { parseConfig } from '../env.ts';

export const ORIGIN_PLACEHOLDER = '__RESISTRO_ORIGIN__';

/**
 * `curl https://<service>/install-agent.sh | sudo sh`: the installer (bundled into the worker as
 * text, see wrangler.toml [[rules]]) with this service's origin filled in, so the agent it
 * installs downloads from and reports to here.
 */
export function installScript(request: Request, env: Bindings): Response {
  const origin = parseConfig(env).appOrigin ?? new URL(request.url).origin;
  return new Response(INSTALLER.replaceAll(ORIGIN_PLACEHOLDER, origin), {
    headers: { 'content-type': 'text/x-shellscript; charset=utf-8', 'cache-control': 'no-store' },
  });
}
