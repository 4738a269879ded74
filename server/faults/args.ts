/** Tiny argv readers for the fault-suite entry points (`--name value` or `--name=value`). */
export function argValue(name: string): string | undefined {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1];
}

export function argNumber(name: string, fallback: number): number {
  const v = Number(argValue(name));
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
