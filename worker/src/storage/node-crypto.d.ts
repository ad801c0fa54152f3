// The one node:crypto function the S3 client uses: DeleteObjects needs a Content-MD5, and Web
// Crypto has no MD5 (workerd provides it under nodejs_compat). Declared here because the worker
// is typed with workers-types, not @types/node.
declare module 'node:crypto' {
  export function createHash(algorithm: 'md5'): {
    update(data: string): { digest(encoding: 'base64'): string };
  };
}
