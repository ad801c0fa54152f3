import { describe, expect, it } from 'vitest';
import { render } from './prometheus.ts';

describe('Prometheus text format', () => {
  it('writes HELP, TYPE and samples with escaped label values', () => {
    const text = render([
      {
        name: 'resistro_backup_last_size_bytes',
        help: 'Size.',
        type: 'gauge',
        samples: [{ labels: { database: 'a "quoted"\\name\nx' }, value: 42 }],
      },
      {
        name: 'resistro_storage_used_bytes',
        help: 'Used.',
        type: 'gauge',
        samples: [{ labels: {}, value: 1.5 }],
      },
    ]);
    expect(text).toBe(
      '# HELP resistro_backup_last_size_bytes Size.\n' +
        '# TYPE resistro_backup_last_size_bytes gauge\n' +
        'resistro_backup_last_size_bytes{database="a \\"quoted\\"\\\\name\\nx"} 42\n' +
        '# HELP resistro_storage_used_bytes Used.\n' +
        '# TYPE resistro_storage_used_bytes gauge\n' +
        'resistro_storage_used_bytes 1.5\n',
    );
  });
});
