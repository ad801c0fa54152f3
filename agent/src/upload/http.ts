// One presigned part PUT over node:http(s): the exact bytes with a Content-Length (S3 and R2
// refuse chunked uploads), streamed from memory or from a byte range of a file, and the ETag back.
import { createReadStream } from 'node:fs';
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export type PartBody =
  | { kind: 'buffer'; data: Buffer }
  | { kind: 'file'; path: string; start: number; length: number };

export function bodyLength(body: PartBody): number {
  return body.kind === 'buffer' ? body.data.length : body.length;
}

/** A storage answer other than 200, or no answer. `retryable` and `expired` steer the uploader. */
export class StorageRequestError extends Error {
  readonly status: number | undefined;
  readonly s3Code: string | undefined;
  constructor(
    message: string,
    status: number | undefined,
    s3Code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StorageRequestError';
    this.status = status;
    this.s3Code = s3Code;
  }
  /**
   * no answer, a server-side error, throttling, or a part the storage found damaged on the way
   * (BadDigest: its bytes did not match the checksum signed into the URL): worth sending again
   */
  get retryable(): boolean {
    return (
      this.status === undefined ||
      this.status >= 500 ||
      this.status === 408 ||
      this.status === 429 ||
      (this.status === 400 && this.s3Code === 'BadDigest')
    );
  }
  /** the presigned URL was refused: expired (or the clock is off); a fresh URL may work */
  get expired(): boolean {
    return this.status === 403;
  }
}

export type HttpAgents = { http: HttpAgent; https: HttpsAgent; destroy(): void };

export function createAgents(maxSockets: number): HttpAgents {
  const http = new HttpAgent({ keepAlive: true, maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets });
  return {
    http,
    https,
    destroy() {
      http.destroy();
      https.destroy();
    },
  };
}

/** no bytes moving for this long (either way) ends the attempt */
const IDLE_TIMEOUT_MS = 120_000;

/** A request that stalls or cannot reach storage fails as a StorageRequestError (a stop: its reason). */
function failOnStall(
  req: ClientRequest,
  signal: AbortSignal | undefined,
  fail: (error: Error) => void,
): void {
  req.setTimeout(IDLE_TIMEOUT_MS, () =>
    fail(new StorageRequestError(`no progress for ${IDLE_TIMEOUT_MS / 1000} s`, undefined, undefined)),
  );
  req.once('error', (error) => {
    if (signal?.aborted) return fail(signal.reason as Error);
    fail(
      new StorageRequestError(`storage unreachable: ${error.message}`, undefined, undefined, {
        cause: error,
      }),
    );
  });
}

export function putPart(
  url: string,
  body: PartBody,
  agents: HttpAgents,
  signal?: AbortSignal,
  /** more headers, e.g. the part's checksum that its URL was signed for */
  extraHeaders: Record<string, string> = {},
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    const length = bodyLength(body);
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(error);
    };
    const req = request(target, {
      method: 'PUT',
      agent: secure ? agents.https : agents.http,
      headers: {
        ...extraHeaders,
        'content-length': String(length),
        'content-type': 'application/octet-stream',
      },
      signal,
    });
    failOnStall(req, signal, fail);
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        if (size < 8192) chunks.push(b);
        size += b.length;
      });
      res.once('error', (error) =>
        fail(
          new StorageRequestError(`storage answer cut off: ${error.message}`, undefined, undefined, {
            cause: error,
          }),
        ),
      );
      res.once('end', () => {
        if (settled) return;
        const status = res.statusCode ?? 0;
        const etag = res.headers.etag;
        if (status === 200 && typeof etag === 'string' && etag.length > 0) {
          settled = true;
          resolve(etag);
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
        const why =
          status === 200 ? 'answered without an ETag' : `answered ${status}${code ? ` ${code}` : ''}`;
        fail(new StorageRequestError(`storage ${why}`, status === 200 ? 502 : status, code));
      });
    });
    if (body.kind === 'buffer' || body.length === 0) {
      req.end(body.kind === 'buffer' ? body.data : undefined);
      return;
    }
    const file = createReadStream(body.path, {
      start: body.start,
      end: body.start + body.length - 1,
      highWaterMark: 1024 * 1024,
    });
    file.once('error', (error) => fail(error));
    file.pipe(req);
  });
}

/**
 * The bytes [start, end) of the object behind a presigned GET URL, as one Buffer of exactly that
 * length (a deduplicated restore's ranged read of a pack). Anything but 206 with those bytes is a
 * StorageRequestError (404: the object is gone; 416: it is shorter than asked).
 */
export function getRange(
  url: string,
  start: number,
  end: number,
  agents: HttpAgents,
  signal?: AbortSignal,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(error);
    };
    const req = request(target, {
      method: 'GET',
      agent: secure ? agents.https : agents.http,
      headers: { range: `bytes=${start}-${end - 1}` },
      signal,
    });
    failOnStall(req, signal, fail);
    req.once('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const ok = status === 206 || (status === 200 && start === 0);
      const length = end - start;
      const out = ok ? Buffer.allocUnsafe(length) : undefined;
      const errorText: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        if (out) {
          if (size + b.length <= length) b.copy(out, size);
        } else if (size < 8192) errorText.push(b);
        size += b.length;
      });
      res.once('error', (error) =>
        fail(
          new StorageRequestError(`storage answer cut off: ${error.message}`, undefined, undefined, {
            cause: error,
          }),
        ),
      );
      res.once('end', () => {
        if (settled) return;
        if (out && size === length) {
          settled = true;
          resolve(out);
          return;
        }
        if (out)
          return fail(
            new StorageRequestError(
              `storage answered ${size} bytes for a range of ${length}`,
              502,
              undefined,
            ),
          );
        const code = /<Code>([^<]*)<\/Code>/.exec(Buffer.concat(errorText).toString('utf8'))?.[1];
        fail(new StorageRequestError(`storage answered ${status}${code ? ` ${code}` : ''}`, status, code));
      });
    });
    req.end();
  });
}
