import { CreateChannelBody, ListDeliveriesQuery, UpdateChannelBody } from '@resistro/contract';
import { Hono } from 'hono';
import { requestLanguage } from '../accounts/locale.ts';
import type { AppEnv } from '../app-types.ts';
import { auditRequest } from '../audit/audit.ts';
import { localizeDeliveries } from '../i18n/delivery-errors.ts';
import { requirePrincipal } from '../lib/principal.ts';
import { readBody, readId, readQuery } from '../lib/validate.ts';
import {
  createChannel,
  deleteChannel,
  findChannel,
  listChannels,
  toChannel,
  updateChannel,
} from './channels.ts';
import { listDeliveries, sendTest } from './outbox.ts';

export const notificationRoutes = new Hono<AppEnv>()
  .get('/channels', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ items: await listChannels(c.get('db'), p.accountId) });
  })
  .post('/channels', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const input = await readBody(c, CreateChannelBody);
    const created = await createChannel(c.get('db'), c.get('config'), p.accountId, input, c.get('now'));
    await auditRequest(
      c,
      'channel.created',
      { kind: 'channel', id: created.channel.id },
      { type: input.type },
    );
    return c.json(created, 201);
  })
  .get('/channels/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    return c.json({ channel: toChannel(await findChannel(c.get('db'), p.accountId, readId(c, 'channel'))) });
  })
  .patch('/channels/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'channel');
    const input = await readBody(c, UpdateChannelBody);
    const channel = await updateChannel(c.get('db'), c.get('config'), p.accountId, id, input, c.get('now'));
    await auditRequest(c, 'channel.changed', { kind: 'channel', id }, { fields: Object.keys(input).sort() });
    return c.json({
      channel,
    });
  })
  .delete('/channels/:id', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const id = readId(c, 'channel');
    await deleteChannel(c.get('db'), p.accountId, id);
    await auditRequest(c, 'channel.deleted', { kind: 'channel', id });
    return c.body(null, 204);
  })
  .post('/channels/:id/test', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'write');
    const channel = await findChannel(c.get('db'), p.accountId, readId(c, 'channel'));
    const deliveries = await sendTest(c.get('db'), c.get('config'), channel, c.get('now'));
    return c.json({ deliveries: localizeDeliveries(deliveries, await requestLanguage(c)) });
  })
  .get('/notifications', async (c) => {
    const p = requirePrincipal(c.get('principal'), 'read');
    const list = await listDeliveries(c.get('db'), p.accountId, readQuery(c, ListDeliveriesQuery));
    return c.json({ ...list, items: localizeDeliveries(list.items, await requestLanguage(c)) });
  });
