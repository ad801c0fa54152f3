/**
 * One CSV field (RFC 4180). SECURITY: a text a spreadsheet would run as a formula (=, +, -, @,
 * tab, CR at the start) gets a leading apostrophe, so an e-mail, a name or even a base64 checksum
 * that happens to start with "+" cannot become one. The signed JSON exports carry values as they are.
 */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
