// A response body written while it is read: text chunks from an async generator, each pulled when
// the client is ready for more, so an export of any length holds only one batch in memory.
// SECURITY/resources: the generator gets a database pool of its own (the request's pool closes
// when the handler returns, before the body is sent) and it is closed when the body ends, fails
// or the client goes away.
// The pool comes from the request context (`openDb`): lib/ sits below every feature, and db.ts
// imports every feature's tables, so a runtime import of db.ts here would close an import loop.
import type { Db } from '../db.ts';

export function streamBody(
  open: () => { db: Db; close: () => Promise<void> },
  produce: (db: Db) => AsyncGenerator<string>,
): ReadableStream<Uint8Array> {
  const { db, close } = open();
  const chunks = produce(db);
  const encoder = new TextEncoder();
  let closed = false;
  const finish = async () => {
    if (closed) return;
    closed = true;
    await close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) {
          controller.close();
          await finish();
        } else controller.enqueue(encoder.encode(next.value));
      } catch (e) {
        // the body stops short: the client sees a broken download, never a complete-looking one
        console.error('export stream failed', e);
        controller.error(e);
        await finish();
      }
    },
    async cancel() {
      await chunks.return(undefined).catch(() => {});
      await finish();
    },
  });
}
