// The one node:crypto function the worker uses: DeleteObjects and part checks need MD5, and Web
// Crypto has no MD5 (workerd provides it under nodejs_compat); the streamed audit export needs a
// SHA-256 fed piece by piece, which Web Crypto's one-shot digest cannot do. Declared here because
// the worker is typed with workers-types, not @types/node.
declare module 'node:crypto' {
  export type Hash = {
    update(data: string | Uint8Array): Hash;
    digest(encoding: 'base64' | 'hex'): string;
  };
  export function createHash(algorithm: 'md5' | 'sha256'): Hash;
}
