import type { Bindings } from '../env.ts';
import { parseConfig } from '../env.ts';

export const ORIGIN_PLACEHOLDER = '__RESISTRO_ORIGIN__';

/**
 * `curl https://<service>/install-agent.sh | sudo sh`: the installer from the static assets with
 * this service's origin filled in, so the agent it installs downloads from and reports to here.
 */
export async function installScript(request: Request, env: Bindings): Promise<Response> {
  const asset = await env.ASSETS?.fetch(new URL('/install-agent.sh', request.url));
  const text = asset?.ok ? await asset.text() : undefined;
  if (!text?.startsWith('#!')) {
    return new Response(
      'echo "The agent installer is not built on this service (npm run build)." >&2; exit 1\n',
      {
        status: 404,
        headers: { 'content-type': 'text/x-shellscript; charset=utf-8' },
      },
    );
  }
  const origin = parseConfig(env).appOrigin ?? new URL(request.url).origin;
  return new Response(text.replaceAll(ORIGIN_PLACEHOLDER, origin), {
    headers: { 'content-type': 'text/x-shellscript; charset=utf-8', 'cache-control': 'no-store' },
  });
}
