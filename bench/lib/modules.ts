/**
 * Optional modules: the benchmark runs whatever parts of the project exist and says which are
 * missing instead of failing (other parts of the project are written in parallel).
 */
export type Loaded<T> = { ok: true; module: T } | { ok: false; reason: string };

export function isMissingModule(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

export async function tryImport<T>(load: () => Promise<T>, what: string): Promise<Loaded<T>> {
  try {
    return { ok: true, module: await load() };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    return { ok: false, reason: isMissingModule(e) ? `${what} is not in the tree yet (${msg})` : `${what} failed to load: ${msg}` };
  }
}

/** Time an async call, seconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; sec: number }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { value, sec: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export const maxRssMB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
