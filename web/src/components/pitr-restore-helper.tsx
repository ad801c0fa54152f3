// "Restore to…": the user picks a moment (in the account's time zone) or the newest point; the
// helper refuses a moment no restore can reach, with the reason, and otherwise shows the exact
// `resistro restore --pitr` command to copy.
import type { PitrStatus } from '@resistro/contract/pitr';
import type { Database } from '@resistro/contract/schemas';
import { createSignal, type JSX, Match, Show, Switch } from 'solid-js';
import { browserTimeZone, displayTimeZone } from '../i18n/index.ts';
import { pt } from '../i18n/pitr-texts.ts';
import { formatMoment } from '../lib/format.ts';
import {
  checkMoment,
  fromLocalInput,
  type MomentCheck,
  type PitrFamily,
  restorableBounds,
  restoreCommand,
  toLocalInput,
} from '../lib/pitr.ts';
import { CodeBlock } from './copy-button.tsx';
import { control, Field } from './field.tsx';
import { suggestRestoreName } from './restore-dialog.tsx';

const MYSQL_PORT = 3306;

/** What the helper says about a moment it refuses. */
export function refusal(check: Exclude<MomentCheck, { ok: true }>): string {
  switch (check.reason) {
    case 'nothing':
      return pt('pitr.refuseNothing');
    case 'before':
      return pt('pitr.refuseBefore', { earliest: formatMoment(check.earliest) });
    case 'after':
      return pt('pitr.refuseAfter', { latest: formatMoment(check.latest) });
    case 'hole':
      return pt('pitr.refuseHole', { from: formatMoment(check.from), to: formatMoment(check.to) });
  }
}

export function PitrRestoreHelper(props: {
  status: PitrStatus;
  database: Database;
  family: PitrFamily;
}): JSX.Element {
  const zone = () => displayTimeZone() ?? browserTimeZone();
  const bounds = () => restorableBounds(props.status.ranges);
  const [kind, setKind] = createSignal<'time' | 'latest'>('time');
  const [picked, setMoment] = createSignal('');
  // until one is picked, the newest moment (also once a window first appears): the most likely
  // wish is "just before something went wrong"
  const moment = () => picked() || (bounds() ? toLocalInput(bounds()!.latest, zone()) : '');
  const [dataDir, setDataDir] = createSignal('/var/lib/postgresql/restored');
  const [host, setHost] = createSignal('localhost');
  const [port, setPort] = createSignal(String(props.database.port || MYSQL_PORT));
  const [database, setDatabase] = createSignal(suggestRestoreName(props.database.database, new Date()));
  const [user, setUser] = createSignal(props.database.user || 'root');

  const verdict = (): { command: string } | { refused: string } => {
    if (!bounds()) return { refused: pt('pitr.refuseNothing') };
    let target: Parameters<typeof restoreCommand>[0]['target'];
    if (kind() === 'latest') {
      // the service refuses --latest across a gap (it never silently ends early): say so here
      if (props.status.gaps.length > 0) return { refused: pt('pitr.refuseLatestGap') };
      target = { kind: 'latest' };
    } else {
      const instant = fromLocalInput(moment(), zone());
      if (!instant) return { refused: pt('pitr.refuseInvalid') };
      const check = checkMoment(instant, props.status.ranges);
      if (!check.ok) return { refused: refusal(check) };
      target = { kind: 'time', instant, zone: zone() };
    }
    const portNumber = Number(port());
    const command =
      props.family === 'postgres'
        ? restoreCommand({ family: 'postgres', databaseId: props.database.id, target, dataDir: dataDir() })
        : restoreCommand({
            family: 'mysql',
            databaseId: props.database.id,
            target,
            host: host(),
            port:
              Number.isInteger(portNumber) && portNumber > 0 && portNumber !== MYSQL_PORT ? portNumber : null,
            database: database(),
            user: user(),
          });
    return { command };
  };

  return (
    <div class="pitr-restore" data-testid="pitr-restore">
      <h3>{pt('pitr.restoreTitle')}</h3>
      <p class="muted">{pt('pitr.restoreHint', { zone: zone() })}</p>
      <fieldset class="radio-group">
        <legend class="sr-only">{pt('pitr.restoreTitle')}</legend>
        <label class="radio">
          <input
            type="radio"
            name="pitr-target"
            checked={kind() === 'time'}
            onChange={() => setKind('time')}
          />
          {pt('pitr.targetTime')}
        </label>
        <label class="radio">
          <input
            type="radio"
            name="pitr-target"
            checked={kind() === 'latest'}
            onChange={() => setKind('latest')}
          />
          {pt('pitr.targetLatest')}
        </label>
      </fieldset>
      <div class="form-grid">
        <Show when={kind() === 'time'}>
          <Field id="pitr-moment" label={pt('pitr.moment', { zone: zone() })}>
            <div class="pitr-moment">
              <input
                {...control('pitr-moment', undefined)}
                type="datetime-local"
                step="1"
                min={bounds() ? toLocalInput(bounds()!.earliest, zone()) : undefined}
                max={bounds() ? toLocalInput(bounds()!.latest, zone()) : undefined}
                value={moment()}
                onInput={(e) => setMoment(e.currentTarget.value)}
              />
              <Show when={bounds()}>
                {(b) => (
                  <>
                    <button
                      type="button"
                      class="btn btn-ghost btn-sm"
                      onClick={() => setMoment(toLocalInput(b().earliest, zone()))}
                    >
                      {pt('pitr.earliest')}
                    </button>
                    <button
                      type="button"
                      class="btn btn-ghost btn-sm"
                      onClick={() => setMoment(toLocalInput(b().latest, zone()))}
                    >
                      {pt('pitr.latest')}
                    </button>
                  </>
                )}
              </Show>
            </div>
          </Field>
        </Show>
        <Switch>
          <Match when={props.family === 'postgres'}>
            <Field id="pitr-data-dir" label={pt('pitr.dataDir')} hint={pt('pitr.dataDirHint')}>
              <input
                {...control('pitr-data-dir', undefined, true)}
                value={dataDir()}
                onInput={(e) => setDataDir(e.currentTarget.value)}
              />
            </Field>
          </Match>
          <Match when={props.family === 'mysql'}>
            <Field id="pitr-host" label={pt('pitr.host')}>
              <input
                {...control('pitr-host', undefined)}
                value={host()}
                onInput={(e) => setHost(e.currentTarget.value)}
              />
            </Field>
            <Field id="pitr-port" label={pt('pitr.port')}>
              <input
                {...control('pitr-port', undefined)}
                type="number"
                min="1"
                max="65535"
                value={port()}
                onInput={(e) => setPort(e.currentTarget.value)}
              />
            </Field>
            <Field id="pitr-database" label={pt('pitr.database')} hint={pt('pitr.databaseHint')}>
              <input
                {...control('pitr-database', undefined, true)}
                value={database()}
                onInput={(e) => setDatabase(e.currentTarget.value)}
              />
            </Field>
            <Field id="pitr-user" label={pt('pitr.user')}>
              <input
                {...control('pitr-user', undefined)}
                value={user()}
                onInput={(e) => setUser(e.currentTarget.value)}
              />
            </Field>
          </Match>
        </Switch>
      </div>
      <Show
        when={'command' in verdict() ? (verdict() as { command: string }).command : undefined}
        fallback={
          <p class="alert alert-warn" role="alert" data-testid="pitr-refusal">
            {(verdict() as { refused: string }).refused}
          </p>
        }
      >
        {(command) => <CodeBlock code={command()} label={pt('pitr.command')} testId="pitr-command" />}
      </Show>
    </div>
  );
}
