import type { Schedule } from '@resistro/contract/schemas';
import { t } from '../i18n/index.ts';

export function describeSchedule(s: Schedule): string {
  return s.kind === 'daily'
    ? t('schedule.dailyAt', { time: s.time, timezone: s.timezone })
    : t('schedule.cronAt', { expression: s.expression, timezone: s.timezone });
}
