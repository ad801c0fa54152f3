// Alert titles and details in the account's language, rendered from the alert's kind and the
// facts detection stored with it, whenever they are shown or sent, so a change of language
// applies to open alerts too. Alerts whose facts predate a field fall back to a shorter text.
import { type AlertKind, PLANS } from '@resistro/contract';
import { backupErrorText } from './backup-errors.ts';
import { formatBytes, formatDateTime } from './format.ts';
import { listFormat } from './intl-cache.ts';
import type { Language, Locale } from './language.ts';
import { plural } from './plural.ts';
import { restoreTestErrorText } from './restore-test-errors.ts';

export type AlertSource = {
  kind: AlertKind;
  subjectType: 'database' | 'agent' | 'account';
  subjectName: string;
  facts: Record<string, unknown>;
  /** the English text detection stored: the last resort for an English account */
  title: string;
  detail: string;
};
export type AlertText = { title: string; detail: string; subjectName: string };

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const date = (v: unknown) => {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
};

function quoted(language: Language, s: string): string {
  return language === 'de' ? `„${s}“` : `"${s}"`;
}

function list(language: Language, names: string[]): string {
  const q = names.map((n) => quoted(language, n));
  return listFormat(language).format(q);
}

function planName(facts: Record<string, unknown>): string | undefined {
  const id = str(facts.plan);
  if (id && id in PLANS) return PLANS[id as keyof typeof PLANS].name;
  const quota = num(facts.quotaBytes);
  return Object.values(PLANS).find((p) => p.storageBytes === quota)?.name;
}

type Parts = { title?: string | undefined; detail?: string | undefined };

function missed(a: AlertSource, l: Locale): Parts {
  const { language } = l;
  const name = quoted(language, a.subjectName);
  const due = date(a.facts.scheduledFor);
  const grace = num(a.facts.graceMinutes);
  const hasLast = 'lastBackupAt' in a.facts;
  const last = date(a.facts.lastBackupAt);
  const at = (d: Date) => formatDateTime(d, l);
  if (language === 'de') {
    const minutes =
      grace !== undefined ? plural('de', grace, { one: '{n} Minute', other: '{n} Minuten' }) : '';
    return {
      title: `Kein Backup von ${name} zur geplanten Zeit gestartet`,
      detail:
        due && grace !== undefined && hasLast
          ? `Das für ${at(due)} geplante Backup ist nicht innerhalb von ${minutes} gestartet. ` +
            (last ? `Das letzte Backup startete ${at(last)}. ` : 'Bisher wurde kein Backup gestartet. ') +
            'Prüfen Sie, ob der Agent läuft und die Datenbank erreicht.'
          : undefined,
    };
  }
  const minutes = grace !== undefined ? plural('en', grace, { one: '{n} minute', other: '{n} minutes' }) : '';
  return {
    title: `No backup of ${name} started as scheduled`,
    detail:
      due && grace !== undefined && hasLast
        ? `The backup scheduled for ${at(due)} did not start within ${minutes}. ` +
          (last ? `The last backup started ${at(last)}. ` : 'No backup has started yet. ') +
          'Check that the agent runs and can reach the database.'
        : undefined,
  };
}

function failing(a: AlertSource, l: Locale): Parts {
  const { language } = l;
  const name = quoted(language, a.subjectName);
  const n = num(a.facts.consecutiveFailures);
  const raw = str(a.facts.lastError);
  // With a code the cause is said in the account's language; the agent's own text follows as it is.
  const cause = backupErrorText(language, a.facts.lastErrorCode, a.facts.lastErrorParams);
  const error =
    raw === undefined
      ? undefined
      : cause === undefined
        ? raw
        : `${cause.sentence} ${cause.hint}\n${language === 'de' ? 'Ausgabe des Werkzeugs' : 'Tool output'}: ${raw}`;
  if (language === 'de') {
    const count = n === undefined ? '' : n >= 10 ? '10 oder mehr' : String(n);
    return {
      title: `Backups von ${name} schlagen fehl`,
      detail:
        n !== undefined && error !== undefined
          ? `Die letzten ${count} Backups sind fehlgeschlagen. Letzter Fehler: ${error}`
          : undefined,
    };
  }
  const count = n === undefined ? '' : n >= 10 ? '10 or more' : String(n);
  return {
    title: `Backups of ${name} are failing`,
    detail:
      n !== undefined && error !== undefined
        ? `The last ${count} backups failed. Last error: ${error}`
        : undefined,
  };
}

function sizeDrop(a: AlertSource, l: Locale): Parts {
  const { language } = l;
  const name = quoted(language, a.subjectName);
  const size = num(a.facts.sizeBytes);
  const median = num(a.facts.medianBytes);
  const history = num(a.facts.history);
  const started = date(a.facts.startedAt);
  if (size === undefined || median === undefined || median <= 0) return {};
  const pct = Math.round((1 - size / median) * 100);
  const b = (n: number) => formatBytes(language, n);
  const complete = history !== undefined && started !== undefined;
  if (language === 'de') {
    return {
      title: `Backup von ${name} ist ${pct} % kleiner als üblich`,
      detail: complete
        ? `Das Backup von ${formatDateTime(started, l)} hat ${b(size)}; der Median ${plural('de', history, { one: 'des {n} erfolgreichen Backups', other: 'der {n} erfolgreichen Backups' })} davor liegt bei ${b(median)}. ` +
          'Ein plötzlicher Rückgang kann verlorene Daten bedeuten: Prüfen Sie die Datenbank.'
        : undefined,
    };
  }
  return {
    title: `Backup of ${name} is ${pct} % smaller than usual`,
    detail: complete
      ? `The backup of ${formatDateTime(started, l)} has ${b(size)}; the median of the ${plural('en', history, { one: '{n} successful backup', other: '{n} successful backups' })} before it is ${b(median)}. ` +
        'A sudden drop can mean lost data: check the database.'
      : undefined,
  };
}

function offline(a: AlertSource, l: Locale): Parts {
  const { language } = l;
  const name = quoted(language, a.subjectName);
  const seen = date(a.facts.lastSeenAt);
  const dbs = Array.isArray(a.facts.databases)
    ? a.facts.databases.filter((x) => typeof x === 'string')
    : undefined;
  const complete = seen !== undefined && dbs !== undefined && dbs.length > 0;
  if (language === 'de') {
    return {
      title: `Agent ${name} ist offline`,
      detail: complete
        ? `Kein Lebenszeichen seit ${formatDateTime(seen, l)} (mehr als 5 Minuten). ` +
          `Die Backups von ${list('de', dbs)} können erst wieder laufen, wenn er zurück ist: Prüfen Sie den Dienst resistro-agent auf diesem Host.`
        : undefined,
    };
  }
  return {
    title: `Agent ${name} is offline`,
    detail: complete
      ? `No heartbeat since ${formatDateTime(seen, l)} (more than 5 minutes). ` +
        `Backups of ${list('en', dbs)} cannot run until it is back: check the resistro-agent service on that host.`
      : undefined,
  };
}

function storage(a: AlertSource, l: Locale, full: boolean): Parts {
  const { language } = l;
  const used = num(a.facts.usedBytes);
  const quota = num(a.facts.quotaBytes);
  const plan = planName(a.facts);
  if (used === undefined || quota === undefined || quota <= 0 || !plan) return {};
  const pct = Math.round((used / quota) * 100);
  const b = (n: number) => formatBytes(language, n);
  if (language === 'de') {
    const usage = `${b(used)} von ${b(quota)} belegt (${pct} %)`;
    return full
      ? {
          title: `Der Speicher des Plans ${plan} ist aufgebraucht`,
          detail: `${usage}. Neue Backups werden abgelehnt, bis Sie Platz schaffen oder in einen größeren Plan wechseln.`,
        }
      : {
          title: `Speicher zu über 80 % des Plans ${plan} belegt`,
          detail: `${usage}. Bei 100 % werden neue Backups abgelehnt: Löschen Sie alte Backups, verkürzen Sie die Aufbewahrung oder wechseln Sie in einen größeren Plan.`,
        };
  }
  const usage = `${b(used)} of ${b(quota)} used (${pct} %)`;
  return full
    ? {
        title: `The storage quota of the ${plan} plan is used up`,
        detail: `${usage}. New backups are refused until you free space or upgrade.`,
      }
    : {
        title: `Storage over 80 % of the ${plan} plan`,
        detail: `${usage}. At 100 % new backups are refused: delete old backups, shorten retention or upgrade.`,
      };
}

function restoreTestFailed(a: AlertSource, l: Locale): Parts {
  const { language } = l;
  const name = quoted(language, a.subjectName);
  const state = str(a.facts.state);
  const at = date(a.facts.finishedAt);
  const tables = num(a.facts.tablesFailed) ?? 0;
  const checks = Array.isArray(a.facts.failedChecks)
    ? a.facts.failedChecks.filter((x): x is string => typeof x === 'string')
    : [];
  const raw = str(a.facts.error);
  const cause = restoreTestErrorText(language, a.facts.errorCode);
  const error = state === 'error';
  if (!at) return {};
  if (language === 'de') {
    const reasons = error
      ? `${cause ?? 'Fehler'}${raw ? `: ${raw}` : ''}`
      : [
          tables > 0 &&
            plural('de', tables, {
              one: '{n} Tabelle weicht vom Backup ab',
              other: '{n} Tabellen weichen vom Backup ab',
            }),
          checks.length > 0 &&
            `${checks.length === 1 ? 'Ihre Prüfung' : 'Ihre Prüfungen'} ${list('de', checks)} ${checks.length === 1 ? 'ist' : 'sind'} fehlgeschlagen`,
        ]
          .filter(Boolean)
          .join('; ');
    return {
      title: error
        ? `Wiederherstellungstest von ${name} konnte nicht abgeschlossen werden`
        : `Wiederherstellungstest von ${name} fehlgeschlagen`,
      detail: `Der Wiederherstellungstest vom ${formatDateTime(at, l)} ${error ? 'wurde nicht abgeschlossen' : 'ist fehlgeschlagen'}. ${reasons}. Die Einzelheiten stehen bei den Wiederherstellungstests der Datenbank.`,
    };
  }
  const reasons = error
    ? `${cause ?? 'Error'}${raw ? `: ${raw}` : ''}`
    : [
        tables > 0 &&
          plural('en', tables, {
            one: '{n} table differs from the backup',
            other: '{n} tables differ from the backup',
          }),
        checks.length > 0 && `your ${checks.length === 1 ? 'check' : 'checks'} ${list('en', checks)} failed`,
      ]
        .filter(Boolean)
        .join('; ');
  return {
    title: error ? `Restore test of ${name} could not finish` : `Restore test of ${name} failed`,
    detail: `The restore test of ${formatDateTime(at, l)} ${error ? 'did not finish' : 'failed'}. ${reasons}. The restore tests of the database show the details.`,
  };
}

function restoreTestStale(a: AlertSource, l: Locale): Parts {
  const { language } = l;
  const name = quoted(language, a.subjectName);
  const days = num(a.facts.days);
  if (days === undefined) return {};
  const last = date(a.facts.lastPassedAt);
  if (language === 'de') {
    return {
      title: `Seit ${plural('de', days, { one: '{n} Tag', other: '{n} Tagen' })} kein erfolgreicher Wiederherstellungstest von ${name}`,
      detail:
        `${last ? `Der letzte bestandene Test endete ${formatDateTime(last, l)}.` : 'Bisher hat kein Wiederherstellungstest bestanden.'} ` +
        'Prüfen Sie, ob der Agent läuft und aktuell ist, und sehen Sie sich die fehlgeschlagenen Tests der Datenbank an.',
    };
  }
  return {
    title: `No successful restore test of ${name} for ${plural('en', days, { one: '{n} day', other: '{n} days' })}`,
    detail:
      `${last ? `The last restore test that passed ended ${formatDateTime(last, l)}.` : 'No restore test has passed yet.'} ` +
      'Check that the agent runs and is up to date, and look at the failed tests of the database.',
  };
}

/**
 * Continuous protection (pitr/alerts.ts): gap, lag above the RPO target, slot filling the disk,
 * binlog retention shorter than twice the lag.
 */
function pitr(a: AlertSource, l: Locale): Parts {
  const { language } = l;
  const de = language === 'de';
  const name = quoted(language, a.subjectName);
  if (a.kind === 'pitr_gap') {
    const missing = Array.isArray(a.facts.missing)
      ? a.facts.missing.filter((m) => typeof m === 'string')
      : [];
    if (missing.length === 0) return {};
    const first = missing.slice(0, 3).join(', ');
    return de
      ? {
          title: `Das Log von ${name} hat eine Lücke`,
          detail:
            `Segment ${first} fehlt: keine Wiederherstellung kann darüber hinweg. Sofort wird ein neues Basis-Backup erstellt; ` +
            'Zeitpunkte danach sind wieder wiederherstellbar. Prüfen Sie im Log des Agents auf dem Datenbank-Host, warum das Segment nicht hochgeladen wurde oder wer es gelöscht hat.',
        }
      : {
          title: `The log of ${name} has a gap`,
          detail:
            `Segment ${first} is missing: no restore can cross it. A new base backup is taken at once; points after it are restorable again. ` +
            'Check the agent log on the database host for why the segment was not uploaded or who deleted it.',
        };
  }
  if (a.kind === 'pitr_lag') {
    const lag = num(a.facts.lagSeconds);
    const rpo = num(a.facts.rpoSeconds);
    if (lag === undefined || rpo === undefined) return {};
    return de
      ? {
          title: `Das Log von ${name} liegt hinter dem RPO-Ziel`,
          detail: `Das neueste Log im Speicher liegt ${lag} s hinter dem Server; das Ziel sind ${rpo} s. Prüfen Sie, ob der Agent läuft und Datenbank und Speicher erreicht.`,
        }
      : {
          title: `The log of ${name} lags behind its RPO target`,
          detail: `The newest log in storage is ${lag} s behind the server; the target is ${rpo} s. Check that the agent runs and reaches the database and the storage.`,
        };
  }
  if (a.kind === 'pitr_retention') {
    const lag = num(a.facts.lagSeconds);
    const retention = num(a.facts.retentionSeconds);
    if (lag === undefined || retention === undefined) return {};
    return de
      ? {
          title: `Der Server von ${name} löscht Binlogs, die der Agent vielleicht nicht gespeichert hat`,
          detail:
            `Der Agent liegt ${lag} s hinter dem Binärlog, und der Server löscht Binlogs nach ${retention} s: ` +
            'was der Agent bis dahin nicht gespeichert hat, ist eine Lücke, über die keine Wiederherstellung hinweg kann. Prüfen Sie, ob der Agent läuft und Server und Speicher erreicht, ' +
            'und erhöhen Sie die Aufbewahrung auf dem Server (SET PERSIST binlog_expire_logs_seconds = 604800, oder expire_logs_days = 7 bei älteren Servern).',
        }
      : {
          title: `The server of ${name} deletes binary logs the agent may not have stored`,
          detail:
            `The agent is ${lag} s behind the binary log, and the server deletes binlogs after ${retention} s: ` +
            'what the agent has not stored by then is a gap no restore can cross. Check that the agent runs and reaches the server and the storage, ' +
            'and raise the retention on the server (SET PERSIST binlog_expire_logs_seconds = 604800, or expire_logs_days = 7 on older servers).',
        };
  }
  const slot = str(a.facts.slotName);
  const retained = num(a.facts.retainedBytes);
  const percent = num(a.facts.percent);
  if (!slot || retained === undefined || percent === undefined) return {};
  const held = formatBytes(language, retained);
  const walStatus = str(a.facts.walStatus);
  const drop = `SELECT pg_drop_replication_slot('${slot}')`;
  return de
    ? {
        title: `Der Replikations-Slot von ${name} füllt die Festplatte`,
        detail:
          (walStatus === 'lost'
            ? `Der Server hat bereits WAL entfernt, das Slot ${slot} noch brauchte (wal_status lost): das Log hat eine Lücke. `
            : walStatus === 'unreserved'
              ? `Slot ${slot} hält ${held} WAL zurück, mehr als max_slot_wal_keep_size: der nächste Checkpoint entfernt WAL, das der Agent noch nicht gestreamt hat. `
              : `Slot ${slot} hält ${held} WAL zurück, ${percent} % dessen, was der Server behalten kann. `) +
          'Prüfen Sie das Log des Agents auf dem Datenbank-Host und reparieren Sie seine Replikationsverbindung (pg_hba.conf braucht eine replication-Zeile für seinen Benutzer), ' +
          `oder löschen Sie den Slot (${drop}), bevor die Platte voll ist; der Agent legt ihn neu an, und ein neues Basis-Backup folgt.`,
      }
    : {
        title: `The replication slot of ${name} is filling the disk`,
        detail:
          (walStatus === 'lost'
            ? `The server has already removed WAL that slot ${slot} still needed (wal_status lost): the log has a gap. `
            : walStatus === 'unreserved'
              ? `Slot ${slot} holds ${held} of WAL, more than max_slot_wal_keep_size: the next checkpoint removes WAL the agent has not streamed yet. `
              : `Slot ${slot} holds ${held} of WAL, ${percent} % of what the server can keep. `) +
          "Check the agent's log on the database host and fix its replication connection (pg_hba.conf needs a replication line for its user), " +
          `or drop the slot (${drop}) before the disk fills; the agent creates it again and a new base backup follows.`,
      };
}

/** What the kind means, for a German account when an old alert lacks the facts for the full text. */
const KIND_DE: Record<AlertKind, string> = {
  missed:
    'Ein geplantes Backup ist nicht rechtzeitig gestartet. Prüfen Sie, ob der Agent läuft und die Datenbank erreicht.',
  offline:
    'Der Agent sendet seit mehr als 5 Minuten kein Lebenszeichen. Prüfen Sie den Dienst resistro-agent auf dem Host.',
  failing:
    'Mehrere Backups hintereinander sind fehlgeschlagen. Die Fehlermeldungen stehen bei den Backups der Datenbank.',
  size_drop:
    'Das neueste Backup ist viel kleiner als die vorherigen. Prüfen Sie die Datenbank auf verlorene Daten.',
  storage_high: 'Der Speicher Ihres Plans ist zu über 80 % belegt.',
  storage_full: 'Der Speicher Ihres Plans ist aufgebraucht; neue Backups werden abgelehnt.',
  restore_test_failed:
    'Ein Wiederherstellungstest ist fehlgeschlagen. Die Einzelheiten stehen bei den Wiederherstellungstests der Datenbank.',
  restore_test_stale:
    'Seit Tagen hat kein Wiederherstellungstest bestanden. Prüfen Sie, ob der Agent läuft und aktuell ist.',
  pitr_gap:
    'Das Log eines kontinuierlich geschützten Servers hat eine Lücke. Über sie hinweg ist keine Wiederherstellung möglich.',
  pitr_lag: 'Das Log erreicht den Speicher später als das RPO-Ziel. Prüfen Sie den Agent.',
  pitr_slot:
    'Der Replikations-Slot hält fast so viel WAL zurück, wie der Server behalten kann. Prüfen Sie den Agent.',
  pitr_retention:
    'Der Server löscht Binlogs, bevor der Agent sie gespeichert hat. Prüfen Sie den Agent und erhöhen Sie binlog_expire_logs_seconds.',
  copy_failed:
    'Kopien in den zweiten Speicherort fehlen oder sind fehlgeschlagen. Prüfen Sie den Bucket und seine Zugangsdaten.',
};

function copyFailed(a: AlertSource, l: Locale): Parts {
  const failed = num(a.facts.failed);
  const missing = num(a.facts.missing);
  const bucket = str(a.facts.bucket);
  if (failed === undefined || missing === undefined || !bucket) return {};
  if (l.language === 'de') {
    return {
      title: `Kopien im zweiten Speicherort ${bucket} fehlen`,
      detail:
        `${failed} Kopie(n) sind nach drei Versuchen fehlgeschlagen, ${missing} Backup(s) haben nach 24 Stunden noch keine geprüfte Kopie. ` +
        'Prüfen Sie, ob der Bucket erreichbar ist und die Zugangsdaten schreiben dürfen (Einstellungen → Zweiter Speicherort), und ob der Agent läuft.',
    };
  }
  return {
    title: `Copies missing in the second storage location ${bucket}`,
    detail:
      `${failed} copy/copies failed after three tries, ${missing} backup(s) have no verified copy after 24 hours. ` +
      'Check that the bucket is reachable and its credentials may write (Settings → Second storage location), and that the agent runs.',
  };
}

const SUBJECT_ACCOUNT: Record<Language, string> = { de: 'Speicher', en: 'Storage' };
const SUBJECT_COPIES: Record<Language, string> = {
  de: 'Zweiter Speicherort',
  en: 'Second storage location',
};

export function alertText(a: AlertSource, locale: Locale): AlertText {
  const parts =
    a.kind === 'missed'
      ? missed(a, locale)
      : a.kind === 'failing'
        ? failing(a, locale)
        : a.kind === 'size_drop'
          ? sizeDrop(a, locale)
          : a.kind === 'offline'
            ? offline(a, locale)
            : a.kind === 'restore_test_failed'
              ? restoreTestFailed(a, locale)
              : a.kind === 'restore_test_stale'
                ? restoreTestStale(a, locale)
                : a.kind.startsWith('pitr_')
                  ? pitr(a, locale)
                  : a.kind === 'copy_failed'
                    ? copyFailed(a, locale)
                    : storage(a, locale, a.kind === 'storage_full');
  const de = locale.language === 'de';
  return {
    title: parts.title ?? (de ? KIND_DE[a.kind].split('. ')[0]! : a.title),
    detail: parts.detail ?? (de ? KIND_DE[a.kind] : a.detail),
    subjectName:
      a.kind === 'copy_failed'
        ? SUBJECT_COPIES[locale.language]
        : a.subjectType === 'account'
          ? SUBJECT_ACCOUNT[locale.language]
          : a.subjectName,
  };
}
