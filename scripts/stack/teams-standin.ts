// The local stand-in for a Microsoft Teams Workflows webhook: it accepts what the "When a Teams
// webhook request is received" trigger accepts — a message whose attachments are Adaptive Cards —
// and answers 202 like Workflows does; anything else is a 400 with the reason.
export function checkTeamsMessage(raw: string): { status: number; error?: string } {
  let m: any;
  try {
    m = JSON.parse(raw);
  } catch {
    return { status: 400, error: 'body is not JSON' };
  }
  if (m?.type !== 'message') return { status: 400, error: "type must be 'message'" };
  if (!Array.isArray(m.attachments) || m.attachments.length === 0)
    return { status: 400, error: 'attachments must list at least one card' };
  for (const a of m.attachments) {
    if (a?.contentType !== 'application/vnd.microsoft.card.adaptive')
      return { status: 400, error: 'each attachment must be an Adaptive Card' };
    const card = a.content;
    if (card?.type !== 'AdaptiveCard' || typeof card.version !== 'string')
      return { status: 400, error: 'content must be an AdaptiveCard with a version' };
    if (!Array.isArray(card.body) || card.body.some((b: any) => typeof b?.type !== 'string'))
      return { status: 400, error: 'card body must be a list of elements' };
  }
  return { status: 202 };
}
