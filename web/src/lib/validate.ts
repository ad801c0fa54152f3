// Client-side checks that mirror the contract, returning message keys so the text follows the
// language switch. The server validates again and its messages are shown as they come.
import type { MessageKey, Params } from '../i18n/index.ts';

export type Problem = { key: MessageKey; params?: Params };
export type Problems<F extends string> = Partial<Record<F, Problem>>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkEmail(value: string): Problem | undefined {
  const v = value.trim();
  if (!v) return { key: 'validation.required' };
  if (v.length > 254 || !EMAIL.test(v)) return { key: 'validation.email' };
  return undefined;
}

export function checkNewPassword(value: string): Problem | undefined {
  if (!value) return { key: 'validation.required' };
  if (value.length < 10) return { key: 'validation.passwordLength', params: { min: 10 } };
  if (value.length > 200) return { key: 'validation.tooLong', params: { max: 200 } };
  return undefined;
}

export function checkRequired(value: string): Problem | undefined {
  return value.trim() ? undefined : { key: 'validation.required' };
}

export function hasProblems(p: Record<string, Problem | undefined>): boolean {
  return Object.values(p).some(Boolean);
}

/** Focus the first invalid control so keyboard users land on what needs fixing. */
export function focusFirstInvalid(form: HTMLFormElement | undefined): void {
  queueMicrotask(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}
