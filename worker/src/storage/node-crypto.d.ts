// The one node:crypto function the storage uses: DeleteObjects and part checks need MD5, and Web
// Crypto has no MD5 (workerd provides it under nodejs_compat). Declared here because the worker
// is typed with workers-types, not @types/node.
declare module 'node:crypto' {
  export function createHash(algorithm: 'md5' | 'sha256'): {
    update(data: string | Uint8Array): { digest(encoding: 'base64' | 'hex'): string };
    digest(encoding: 'base64' | 'hex'): string;
  };
}
