/** Human output: `key: value` lines for one record, an aligned table for lists. */

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Nested objects (status counts, address) become dotted keys. */
function flatten(record: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(record).flatMap(([key, value]): [string, unknown][] =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? flatten(value as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value]],
  );
}

export function formatRecord(record: Record<string, unknown>): string {
  const entries = flatten(record);
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${cell(value)}\n`).join('');
}

export function formatTable(rows: Record<string, unknown>[], columns: readonly string[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const header = columns.map((column) => column.toUpperCase());
  const widths = columns.map((_, i) => Math.max(header[i]!.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => `${values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')}\n`;
  return line(header) + cells.map(line).join('');
}
