// The token of an e-mail link (/verify-email#token=…, /reset-password#token=…). It travels in the
// fragment, so no server log or Referer header sees it; it is removed from the address bar at once.
export function takeLinkToken(): string | undefined {
  const m = window.location.hash.match(/token=([A-Za-z0-9_-]{20,100})/);
  if (m) history.replaceState(null, '', window.location.pathname + window.location.search);
  return m?.[1];
}
