// S3 Object Lock for the local S3 server (s3-server.ts), as S3 does it:
// - a bucket has object lock only when created with `x-amz-bucket-object-lock-enabled: true`
//   (or configured so at start); GET ?object-lock answers its configuration, or
//   ObjectLockConfigurationNotFoundError;
// - PutObject, PutObject-Copy and CreateMultipartUpload take `x-amz-object-lock-mode`
//   (GOVERNANCE or COMPLIANCE) with `x-amz-object-lock-retain-until-date`; on a bucket without
//   object lock that is InvalidRequest, a date not in the future InvalidArgument; a multipart
//   upload's lock applies when it completes;
// - PUT ?retention sets a retention, GET ?retention reads it (NoSuchObjectLockConfiguration when
//   none). A COMPLIANCE retention can be extended, never shortened or turned into GOVERNANCE
//   (AccessDenied); GOVERNANCE can be shortened only with x-amz-bypass-governance-retention;
// - DeleteObject and each key of DeleteObjects are refused with AccessDenied while the retention
//   is in force, and so is a write that would replace the locked object.
// One difference, on purpose: S3 keeps versions, and a DELETE without a versionId there only puts a
// delete marker over a locked version (which stays, hidden). This server keeps one version per
// key, so it refuses that delete, which is what the control plane must never count on either way.
// HEAD and GET answer the retention in x-amz-object-lock-mode and -retain-until-date.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Ctx = any;
type Retention = { mode: 'GOVERNANCE' | 'COMPLIANCE'; retainUntil: string };

export function installObjectLock(opts: {
  server: any;
  root: string;
  S3Error: any;
  objectController: any;
  bucketController: any;
  router: any;
  XMLParser: any;
  lockedBuckets: string[];
}) {
  const { server, root, objectController, bucketController, router } = opts;
  // S3's statuses for the codes s3rver does not know (it would answer 500).
  const STATUS: Record<string, number> = {
    ObjectLockConfigurationNotFoundError: 404,
    NoSuchObjectLockConfiguration: 404,
  };
  const s3Error = (code: string, message: string, detail?: object): Error => {
    const e = new opts.S3Error(code, message, detail);
    if (STATUS[code]) {
      e.status = STATUS[code];
      e.expose = true;
    }
    return e;
  };
  const store = server.store;
  const bucketConfigPath = (bucket: string) => join(root, `${bucket}.object-lock.json`);
  const retentionPath = (bucket: string, key: string) => store.getResourcePath(bucket, key, 'retention.json');
  const uploadLockPath = (uploadId: string) => join(root, `.upload-${uploadId}.object-lock.json`);

  async function lockEnabled(bucket: string): Promise<boolean> {
    return readFile(bucketConfigPath(bucket), 'utf8').then(
      () => true,
      () => false,
    );
  }
  async function retentionOf(bucket: string, key: string): Promise<Retention | undefined> {
    return readFile(retentionPath(bucket, key), 'utf8').then(JSON.parse, () => undefined);
  }
  const inForce = (r: Retention | undefined) => !!r && Date.parse(r.retainUntil) > Date.now();
  const accessDenied = () =>
    s3Error('AccessDenied', 'Access Denied because object protected by object lock.');

  /** The lock headers of a write, checked as S3 checks them; undefined when none. */
  async function requestedLock(ctx: Ctx): Promise<Retention | undefined> {
    const mode = ctx.headers['x-amz-object-lock-mode'];
    const until = ctx.headers['x-amz-object-lock-retain-until-date'];
    if (mode === undefined && until === undefined) return undefined;
    if (!(await lockEnabled(ctx.params.bucket)))
      throw s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
    if (mode === undefined || until === undefined)
      throw s3Error(
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      );
    return checkedRetention(mode, until);
  }
  function checkedRetention(mode: unknown, until: unknown): Retention {
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE')
      throw s3Error('InvalidArgument', 'Unknown wormMode directive.');
    const ms = typeof until === 'string' ? Date.parse(until) : Number.NaN;
    if (!Number.isFinite(ms)) throw s3Error('InvalidArgument', 'The retain until date must be a valid date');
    if (ms <= Date.now()) throw s3Error('InvalidArgument', 'The retain until date must be in the future!');
    return { mode, retainUntil: new Date(ms).toISOString() };
  }
  async function refuseIfLocked(bucket: string, key: string) {
    if (inForce(await retentionOf(bucket, key))) throw accessDenied();
  }

  // ---- buckets ----
  for (const bucket of opts.lockedBuckets) void writeFile(bucketConfigPath(bucket), '{"enabled":true}');
  const putBucket = bucketController.putBucket;
  bucketController.putBucket = async (ctx: Ctx) => {
    await putBucket(ctx);
    if (String(ctx.headers['x-amz-bucket-object-lock-enabled']).toLowerCase() === 'true')
      await writeFile(bucketConfigPath(ctx.params.bucket), '{"enabled":true}');
  };
  wrapRoute('GET', '/:bucket', 'object-lock', async (ctx) => {
    if (!(await lockEnabled(ctx.params.bucket)))
      throw s3Error(
        'ObjectLockConfigurationNotFoundError',
        'Object Lock configuration does not exist for this bucket',
      );
    ctx.body = {
      ObjectLockConfiguration: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        ObjectLockEnabled: 'Enabled',
      },
    };
  });

  // ---- writes ----
  const putObject = objectController.putObject;
  objectController.putObject = async (ctx: Ctx) => {
    const lock = await requestedLock(ctx);
    await refuseIfLocked(ctx.params.bucket, ctx.params.key);
    await putObject(ctx);
    await writeRetention(ctx.params.bucket, ctx.params.key, lock);
  };
  const putObjectCopy = objectController.putObjectCopy;
  objectController.putObjectCopy = async (ctx: Ctx) => {
    const lock = await requestedLock(ctx);
    await refuseIfLocked(ctx.params.bucket, ctx.params.key);
    await putObjectCopy(ctx);
    await writeRetention(ctx.params.bucket, ctx.params.key, lock);
  };
  const initiate = objectController.initiateMultipartUpload;
  objectController.initiateMultipartUpload = async (ctx: Ctx) => {
    const lock = await requestedLock(ctx);
    await initiate(ctx);
    const uploadId = ctx.body?.InitiateMultipartUploadResult?.UploadId;
    if (lock && uploadId) await writeFile(uploadLockPath(uploadId), JSON.stringify(lock));
  };
  const complete = objectController.completeMultipartUpload;
  objectController.completeMultipartUpload = async (ctx: Ctx) => {
    await refuseIfLocked(ctx.params.bucket, ctx.params.key);
    await complete(ctx);
    const uploadId = String(ctx.query.uploadId);
    const lock = await readFile(uploadLockPath(uploadId), 'utf8').then(JSON.parse, () => undefined);
    if (lock) {
      await writeRetention(ctx.params.bucket, ctx.params.key, lock);
      await rm(uploadLockPath(uploadId), { force: true });
    }
  };
  async function writeRetention(bucket: string, key: string, lock: Retention | undefined) {
    if (lock) await writeFile(retentionPath(bucket, key), JSON.stringify(lock));
    else await rm(retentionPath(bucket, key), { force: true });
  }

  // ---- deletes ----
  const deleteObject = objectController.deleteObject;
  objectController.deleteObject = async (ctx: Ctx) => {
    await refuseIfLocked(ctx.params.bucket, ctx.params.key);
    await deleteObject(ctx);
    await rm(retentionPath(ctx.params.bucket, ctx.params.key), { force: true });
  };
  objectController.deleteMultipleObjects = async (ctx: Ctx) => {
    const xml: string = await new Promise((resolve, reject) => {
      let text = '';
      ctx.req.setEncoding('utf8');
      ctx.req.on('data', (c: string) => {
        text += c;
      });
      ctx.req.on('end', () => resolve(text));
      ctx.req.on('error', reject);
    });
    const parsed = new opts.XMLParser({ parseTagValue: false }).parse(xml);
    const objects = parsed?.Delete?.Object;
    if (!objects)
      throw s3Error(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema.',
      );
    const keys: string[] = [objects].flat().map((o: any) => String(o?.Key));
    const deleted: string[] = [];
    const errors: string[] = [];
    for (const key of keys) {
      if (inForce(await retentionOf(ctx.params.bucket, key))) {
        errors.push(key);
        continue;
      }
      if (await store.existsObject(ctx.params.bucket, key)) await store.deleteObject(ctx.params.bucket, key);
      await rm(retentionPath(ctx.params.bucket, key), { force: true });
      deleted.push(key);
    }
    ctx.body = {
      DeleteResult: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        Deleted: deleted.map((k) => ({ Key: k })),
        Error: errors.map((k) => ({
          Key: k,
          Code: 'AccessDenied',
          Message: 'Access Denied because object protected by object lock.',
        })),
      },
    };
  };

  // ---- retention of one object ----
  wrapRoute('GET', '/:bucket/*key', 'retention', async (ctx) => {
    if (!(await store.existsObject(ctx.params.bucket, ctx.params.key)))
      throw s3Error('NoSuchKey', 'The specified key does not exist.', { Key: ctx.params.key });
    const r = await retentionOf(ctx.params.bucket, ctx.params.key);
    if (!r)
      throw s3Error(
        'NoSuchObjectLockConfiguration',
        'The specified object does not have a ObjectLock configuration',
      );
    ctx.body = {
      Retention: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        Mode: r.mode,
        RetainUntilDate: r.retainUntil,
      },
    };
  });
  wrapRoute('PUT', '/:bucket/*key', 'retention', async (ctx) => {
    if (!(await lockEnabled(ctx.params.bucket)))
      throw s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
    if (!(await store.existsObject(ctx.params.bucket, ctx.params.key)))
      throw s3Error('NoSuchKey', 'The specified key does not exist.', { Key: ctx.params.key });
    const xml: string = await new Promise((resolve, reject) => {
      let text = '';
      ctx.req.setEncoding('utf8');
      ctx.req.on('data', (c: string) => {
        text += c;
      });
      ctx.req.on('end', () => resolve(text));
      ctx.req.on('error', reject);
    });
    const body = new opts.XMLParser({ parseTagValue: false }).parse(xml)?.Retention;
    if (!body)
      throw s3Error(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema.',
      );
    const next = checkedRetention(body.Mode, body.RetainUntilDate);
    const current = await retentionOf(ctx.params.bucket, ctx.params.key);
    if (current && inForce(current)) {
      const shorter = Date.parse(next.retainUntil) < Date.parse(current.retainUntil);
      const bypass = String(ctx.headers['x-amz-bypass-governance-retention']).toLowerCase() === 'true';
      if (current.mode === 'COMPLIANCE' && (shorter || next.mode !== 'COMPLIANCE')) throw accessDenied();
      if (current.mode === 'GOVERNANCE' && shorter && !bypass) throw accessDenied();
    }
    await writeFile(retentionPath(ctx.params.bucket, ctx.params.key), JSON.stringify(next));
    ctx.body = '';
  });

  // HEAD/GET of an object say its retention, as S3 does.
  const getObject = objectController.getObject;
  objectController.getObject = async (ctx: Ctx) => {
    await getObject(ctx);
    const r = await retentionOf(ctx.params.bucket, ctx.params.key);
    if (r) {
      ctx.set('x-amz-object-lock-mode', r.mode);
      ctx.set('x-amz-object-lock-retain-until-date', r.retainUntil);
    }
  };

  /** Gives s3rver's route for `method path` a handler for `?<queryMethod>`, after its authentication. */
  function wrapRoute(
    method: string,
    path: string,
    queryMethod: string,
    handler: (ctx: Ctx) => Promise<void>,
  ) {
    const layer = router.stack.find((l: any) => l.path === path && l.methods.includes(method));
    if (!layer) throw new Error(`s3rver's router has no ${method} ${path} route to extend`);
    const original = layer.stack.at(-1);
    layer.stack[layer.stack.length - 1] = async (ctx: Ctx, next: () => Promise<void>) => {
      if (ctx.params.queryMethod !== queryMethod) return original(ctx, next);
      if (!ctx.state.account) throw s3Error('AccessDenied', 'Access Denied');
      return handler(ctx);
    };
  }
}
