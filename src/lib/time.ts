export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function secondsFromNow(seconds: number): Date {
  return new Date(Date.now() + seconds * 1000);
}

export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
