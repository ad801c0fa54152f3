// Short confirmations ("Backup requested"), announced politely to screen readers.
import { createSignal } from 'solid-js';

export type Toast = { id: number; tone: 'ok' | 'error' | 'info'; text: string };
const [toasts, setToasts] = createSignal<Toast[]>([]);

export { toasts };

let next = 1;

export function showToast(text: string, tone: Toast['tone'] = 'ok', ms = 5000): void {
  const id = next++;
  setToasts((list) => [...list.slice(-3), { id, tone, text }]);
  setTimeout(() => dismissToast(id), ms);
}

export function dismissToast(id: number): void {
  setToasts((list) => list.filter((x) => x.id !== id));
}
