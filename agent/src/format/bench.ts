// Throughput of the .resistro streams: node agent/src/format/bench.ts [MiB, default 512]
// Not a test. Prints MB/s (10^6 bytes/s) for the encrypt and decrypt streams fed in 64 KiB writes, as
// a pipe delivers them, and for verifyFile on a file in the page cache; each figure is the best of 3
// runs (the first also warms up the JIT). Also prints the peak RSS while only streaming (flat memory).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream } from './decrypt.ts';
import { createEncryptStream } from './encrypt.ts';
import { verifyFile } from './files.ts';
import { generateSymmetricKey, parseEncryptionKey } from './keys.ts';

const MIB = 1024 * 1024;
const total = Number(process.argv[2] ?? 512) * MIB;
const WRITE_SIZE = 64 * 1024;
const RUNS = 3;
const block = randomBytes(16 * MIB);
const key = parseEncryptionKey(generateSymmetricKey());

function* plaintext(): Generator<Buffer> {
  for (let offset = 0; offset < total; offset += WRITE_SIZE) {
    const start = offset % block.length;
    yield block.subarray(start, start + Math.min(WRITE_SIZE, total - offset));
  }
}

function sink(onChunk: (chunk: Buffer) => void = () => {}): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      onChunk(chunk);
      callback();
    },
  });
}

async function measure(label: string, run: () => Promise<void> | void): Promise<void> {
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    await run();
    rates.push(total / 1e6 / (Number(process.hrtime.bigint() - started) / 1e9));
  }
  const all = rates.map((rate) => rate.toFixed(0)).join(' / ');
  console.log(
    `${label.padEnd(26)} ${Math.max(...rates)
      .toFixed(0)
      .padStart(5)} MB/s   (runs: ${all})`,
  );
}

console.log(`${total / MIB} MiB of pseudo-random data, node ${process.version}`);

await measure('encrypt stream', () =>
  pipeline(Readable.from(plaintext()), createEncryptStream(key, { compression: 'none' }), sink()),
);

const streamingRss = process.resourceUsage().maxRSS / 1024;
console.log(`peak rss while streaming ${(3 * total) / MIB} MiB: ${streamingRss.toFixed(0)} MiB`);

// Untimed: the ciphertext that the decrypt runs read, kept in memory so no disk is in the figure.
const ciphertext: Buffer[] = [];
await pipeline(
  Readable.from(plaintext()),
  createEncryptStream(key, { compression: 'none' }),
  sink((chunk) => ciphertext.push(chunk)),
);

await measure('decrypt stream', async () => {
  let decrypted = 0;
  await pipeline(
    Readable.from(ciphertext),
    createDecryptStream(key),
    sink((chunk) => {
      decrypted += chunk.length;
    }),
  );
  if (decrypted !== total) throw new Error(`decrypted ${decrypted} bytes, expected ${total}`);
});

const directory = await mkdtemp(join(tmpdir(), 'resistro-bench-'));
try {
  const path = join(directory, 'bench.resistro');
  await pipeline(Readable.from(ciphertext), createWriteStream(path));
  ciphertext.length = 0;
  await measure('verifyFile (page cache)', async () => {
    await verifyFile(path, key);
  });
} finally {
  await rm(directory, { recursive: true, force: true });
}
