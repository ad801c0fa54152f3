// Paddle.js in the dashboard: loaded once from the address the worker names (Paddle's CDN, or the
// local stand-in), initialised with Paddle's client-side token, and an overlay checkout opened for a
// transaction the worker created. SECURITY: only the public client-side token reaches the browser.
import type { Billing } from '@resistro/contract/billing';

type PaddleEvent = { name: string; data?: unknown };
type PaddleJs = {
  Environment: { set(env: string): void };
  Initialize(o: { token: string; eventCallback?: (e: PaddleEvent) => void }): void;
  Checkout: { open(o: { transactionId: string; settings?: Record<string, unknown> }): void; close(): void };
};
declare global {
  interface Window {
    Paddle?: PaddleJs;
  }
}

let loading: Promise<PaddleJs> | undefined;
let listener: ((e: PaddleEvent) => void) | undefined;

function load(checkout: NonNullable<Billing['checkout']>): Promise<PaddleJs> {
  loading ??= new Promise<PaddleJs>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = checkout.scriptUrl;
    script.async = true;
    script.onload = () => {
      const paddle = window.Paddle;
      if (!paddle) return reject(new Error('Paddle.js did not load'));
      if (checkout.environment === 'sandbox') paddle.Environment.set('sandbox');
      paddle.Initialize({ token: checkout.clientToken, eventCallback: (e) => listener?.(e) });
      resolve(paddle);
    };
    script.onerror = () => {
      loading = undefined;
      reject(new Error('Paddle.js could not be loaded'));
    };
    document.head.append(script);
  });
  return loading;
}

/** Opens Paddle's overlay for the transaction; resolves 'completed', or 'closed' if the user left it. */
export async function openCheckout(
  checkout: NonNullable<Billing['checkout']>,
  transactionId: string,
  locale: string,
): Promise<'completed' | 'closed'> {
  const paddle = await load(checkout);
  return new Promise((resolve) => {
    listener = (e) => {
      if (e.name === 'checkout.completed') resolve('completed');
      else if (e.name === 'checkout.closed') resolve('closed');
    };
    paddle.Checkout.open({ transactionId, settings: { displayMode: 'overlay', locale } });
  });
}
