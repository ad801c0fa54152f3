export * from './errors.ts';
export * from './plans.ts';
export * from './schemas.ts';
export * from './schedule.ts';
export * from './seal.ts';
export * from './files.ts';
export * from './routes.ts';
export * from './client.ts';
