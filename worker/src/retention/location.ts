// The account's second storage location (3-2-1, issue 18): a bucket of the customer's at another
// region or provider that receives copies of the backups (copies.ts). Business plan and up.
// SECURITY: its secret key is sealed with the service's data key (DATA_ENCRYPTION_KEYS,
// lib/secret-box.ts, as TOTP seeds are), bound to the account, and never returned: the browser
// sees the endpoint, bucket and the first characters of the key id.
import type { PutStorageLocationBody, StorageLocation as StorageLocationSchema } from '@resistro/contract';
import { PLANS, type PlanId } from '@resistro/contract';
import { eq } from 'drizzle-orm';
import type * as v from 'valibot';
import { accounts } from '../accounts/accounts.sql.ts';
import type { Db } from '../db.ts';
import type { Config } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { importKeyring, type Keyring, open, seal } from '../lib/secret-box.ts';
import { createS3Storage } from '../storage/s3.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { storageLocations } from './retention.sql.ts';

type Row = typeof storageLocations.$inferSelect;
type Input = v.InferOutput<typeof PutStorageLocationBody>;
type StorageLocation = v.InferOutput<typeof StorageLocationSchema>;

/** Plans with a second storage location. */
export const SECOND_LOCATION_PLANS: readonly PlanId[] = ['business', 'professional', 'enterprise'];

// SECURITY: the account id is authenticated with the sealed secret, so a value moved to another
// account's row does not open there.
const context = (accountId: string) => `storage-location:${accountId}`;

async function keyring(config: Config): Promise<Keyring | undefined> {
  return config.dataEncryptionKeys ? importKeyring(config.dataEncryptionKeys) : undefined;
}

/**
 * Server-side copies need one set of credentials that reads the primary bucket and writes the
 * second: the service's own, at the same provider. Otherwise the agent transfers the file.
 */
export function copyMethod(
  primary: Config['s3'],
  location: { endpoint: string; accessKeyId: string },
): 'server_copy' | 'transfer' {
  const sameEndpoint = new URL(location.endpoint).origin === new URL(primary.endpoint).origin;
  return sameEndpoint && location.accessKeyId === primary.accessKeyId ? 'server_copy' : 'transfer';
}

export function toStorageLocation(row: Row, primary: Config['s3']): StorageLocation {
  return {
    endpoint: row.endpoint,
    region: row.region,
    bucket: row.bucket,
    pathStyle: row.pathStyle,
    accessKeyIdPrefix: `${row.accessKeyId.slice(0, 4)}…`,
    copies: row.copies,
    method: copyMethod(primary, row),
    objectLock: row.objectLock,
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function findLocation(db: Db, accountId: string): Promise<Row | undefined> {
  const [row] = await db.select().from(storageLocations).where(eq(storageLocations.accountId, accountId));
  return row;
}

/** The second location as object storage, with its secret opened. */
export async function locationStorage(config: Config, row: Row): Promise<ObjectStorage> {
  const ring = await keyring(config);
  const { plaintext } = await open(ring, row.secretSealed, context(row.accountId)).catch((e) => {
    throw new ApiError(
      'storage_error',
      'The second storage location cannot be used: its secret does not open',
      undefined,
      { cause: e },
    );
  });
  return createS3Storage({
    endpoint: row.endpoint.replace(/\/+$/, ''),
    region: row.region,
    bucket: row.bucket,
    pathStyle: row.pathStyle,
    accessKeyId: row.accessKeyId,
    secretAccessKey: plaintext,
  });
}

/**
 * Whether the bucket takes uploads with these credentials, and whether it locks objects: an
 * upload is started with a lock (a bucket without object lock refuses it), then without, and
 * aborted. Nothing is left in the bucket.
 */
async function probe(store: ObjectStorage, now: Date): Promise<{ objectLock: boolean }> {
  const key = `resistro-probe/${crypto.randomUUID()}`;
  const tryUpload = async (locked: boolean) => {
    const uploadId = await store.createMultipartUpload(
      key,
      undefined,
      locked ? { retainUntil: new Date(now.getTime() + 86400_000) } : undefined,
    );
    await store.abortMultipartUpload(key, uploadId).catch(() => {});
  };
  try {
    await tryUpload(true);
    return { objectLock: true };
  } catch {
    try {
      await tryUpload(false);
      return { objectLock: false };
    } catch {
      throw new ApiError(
        'validation_failed',
        'The bucket could not be written to with these credentials; check the endpoint, region, bucket and keys',
        { bucket: 'could not be written to with these credentials' },
      );
    }
  }
}

export async function putLocation(
  db: Db,
  config: Config,
  accountId: string,
  input: Input,
  now: Date,
): Promise<StorageLocation> {
  const [account] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  if (!account) throw notFound('account');
  if (!SECOND_LOCATION_PLANS.includes(account.plan))
    throw new ApiError(
      'plan_limit',
      `A second storage location needs the Business plan or higher; the ${PLANS[account.plan].name} plan has none`,
    );
  const ring = await keyring(config);
  if (!ring)
    throw new ApiError(
      'conflict',
      'This service has no data key (DATA_ENCRYPTION_KEYS); a second storage location cannot be stored',
    );
  const endpoint = input.endpoint.replace(/\/+$/, '');
  if (new URL(endpoint).origin === new URL(config.s3.endpoint).origin && input.bucket === config.s3.bucket)
    throw new ApiError('validation_failed', 'Invalid input: the second location must be another bucket', {
      bucket: 'must not be the primary bucket',
    });
  const store = createS3Storage({ ...input, endpoint, pathStyle: input.pathStyle });
  const { objectLock } = await probe(store, now);
  const values = {
    endpoint,
    region: input.region,
    bucket: input.bucket,
    pathStyle: input.pathStyle,
    accessKeyId: input.accessKeyId,
    secretSealed: await seal(ring, input.secretAccessKey, context(accountId)),
    copies: input.copies,
    objectLock,
    updatedAt: now,
  };
  const [row] = await db
    .insert(storageLocations)
    .values({ accountId, ...values, createdAt: now })
    .onConflictDoUpdate({ target: storageLocations.accountId, set: values })
    .returning();
  return toStorageLocation(row!, config.s3);
}

/** Stops copying; copies made so far stay in the bucket (it is the customer's). */
export async function deleteLocation(db: Db, accountId: string): Promise<boolean> {
  const gone = await db
    .delete(storageLocations)
    .where(eq(storageLocations.accountId, accountId))
    .returning({ id: storageLocations.accountId });
  return gone.length > 0;
}
