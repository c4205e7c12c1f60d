import { describe, expect, it } from 'vitest';
import { withTimeFloor } from '../../../src/lib/equal-time.js';
import { translator } from '../../../src/views/i18n/catalogue.js';
import { waitInWords } from '../../../src/views/recovery-pages.js';

describe('waitInWords: the lockout wait as a person would say it, rounded up', () => {
  it.each([
    [0, '1 second', '1 Sekunde'],
    [1, '1 second', '1 Sekunde'],
    [45, '45 seconds', '45 Sekunden'],
    [60, '1 minute', '1 Minute'],
    [61, '2 minutes', '2 Minuten'],
    [900, '15 minutes', '15 Minuten'],
    [3600, '1 hour', '1 Stunde'],
    [3601, '2 hours', '2 Stunden'],
    [86_400, '24 hours', '24 Stunden'],
  ])('%i s: %s / %s', (seconds, en, de) => {
    expect(waitInWords(translator('en'), seconds)).toBe(en);
    expect(waitInWords(translator('de'), seconds)).toBe(de);
  });
});

describe('withTimeFloor', () => {
  it('answers no sooner than the floor, with the result of the work', async () => {
    const started = performance.now();
    expect(await withTimeFloor(50, async () => 'done')).toBe('done');
    expect(performance.now() - started).toBeGreaterThanOrEqual(48);
  });

  it('adds nothing when the work took longer than the floor', async () => {
    const work = () => new Promise<string>((resolve) => setTimeout(() => resolve('slow'), 30));
    const started = performance.now();
    expect(await withTimeFloor(10, work)).toBe('slow');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
