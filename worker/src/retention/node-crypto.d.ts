// The one node:crypto function retention uses (workerd provides it under nodejs_compat; Web
// Crypto has no MD5). Declared here because the worker is typed with workers-types, not @types/node.
declare module 'node:crypto' {
  export function createHash(algorithm: 'md5'): {
    update(data: string): { digest(encoding: 'base64'): string };
  };
}
