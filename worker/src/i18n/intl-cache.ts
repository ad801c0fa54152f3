// Intl formatters are costly to build (about 0.1–0.5 ms each) and cheap to reuse: one per
// language, zone and options for the isolate's lifetime. A page of 50 alerts would otherwise
// spend most of its CPU time constructing formatters.
const cache = new Map<string, unknown>();

function cached<T>(key: string, make: () => T): T {
  let v = cache.get(key) as T | undefined;
  if (v === undefined) {
    v = make();
    cache.set(key, v);
  }
  return v;
}

export const pluralRules = (lang: string) => cached(`p|${lang}`, () => new Intl.PluralRules(lang));

export const numberFormat = (tag: string, maximumFractionDigits: number) =>
  cached(`n|${tag}|${maximumFractionDigits}`, () => new Intl.NumberFormat(tag, { maximumFractionDigits }));

export const listFormat = (lang: string) =>
  cached(`l|${lang}`, () => new Intl.ListFormat(lang, { type: 'conjunction' }));

export const dateTimeFormat = (tag: string, timeZone: string) =>
  cached(
    `d|${tag}|${timeZone}`,
    () =>
      new Intl.DateTimeFormat(tag, {
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        timeZone,
        timeZoneName: 'short',
      }),
  );
