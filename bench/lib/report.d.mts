import type { BenchResult } from '../run.mjs';

export function markdownTable(result: BenchResult): string;
