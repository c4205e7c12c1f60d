/**
 * Colours derived from the operator's primary colour so that text stays readable whatever colour is
 * configured: WCAG 2.2 contrast (success criterion 1.4.3, 4.5:1 for normal text), with relative luminance
 * as WCAG defines it.
 */
type Rgb = [number, number, number];

function parse(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function format([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

function luminance(hex: string): number {
  const [r, g, b] = parse(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

function mix(hex: string, toward: string, amount: number): string {
  const a = parse(hex);
  const b = parse(toward);
  return format(a.map((c, i) => c + (b[i]! - c) * amount) as Rgb);
}

/** Text on a primary-coloured button: white or black, whichever contrasts more (one always reaches 4.5:1). */
export function textOn(background: string): string {
  return contrast('#ffffff', background) >= contrast('#000000', background) ? '#ffffff' : '#000000';
}

/** The primary colour, darkened or lightened just enough to read as text (links) on `background`. */
export function readableOn(color: string, background: string, minimum = 4.5): string {
  const toward = luminance(background) > 0.5 ? '#000000' : '#ffffff';
  for (let step = 0; step <= 20; step++) {
    const candidate = mix(color, toward, step * 0.05);
    if (contrast(candidate, background) >= minimum) return candidate;
  }
  return toward;
}
