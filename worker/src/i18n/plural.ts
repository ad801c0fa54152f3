// Plurals by the language's own rules (Intl.PluralRules), never "database(s)".
import { numberFormat, pluralRules } from './intl-cache.ts';
import { intlTag, type Language } from './language.ts';

/** `{n}` in the chosen form is replaced by the number, formatted for the language. */
export type PluralForms = { one: string; other: string };

export function plural(language: Language, n: number, forms: PluralForms): string {
  const form = pluralRules(language).select(n) === 'one' ? forms.one : forms.other;
  return form.replaceAll('{n}', formatNumber(language, n));
}

export function formatNumber(language: Language, n: number, maximumFractionDigits = 0): string {
  return numberFormat(intlTag(language), maximumFractionDigits).format(n);
}
