/**
 * Post-processing effects: calls `runPostprocessBench({ quick })` from `bench/postprocess.ts`
 * (another module's benchmark) when that file exports it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tryImport } from './modules.js';

const SCRIPT = fileURLToPath(new URL('../postprocess.ts', import.meta.url));

export interface PostprocessSection {
  markdown: string;
  result?: unknown;
}

type PostprocessBench = (opts: { quick: boolean }) => unknown;

/** Markdown from whatever shape the post-processing benchmark returns. */
function toMarkdown(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result && typeof result === 'object') {
    const r = result as Record<string, unknown>;
    for (const key of ['markdown', 'tables', 'table']) {
      const v = r[key];
      if (typeof v === 'string') return v;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join('\n\n');
    }
  }
  return '```json\n' + JSON.stringify(result, null, 2).slice(0, 4000) + '\n```';
}

export async function runPostprocessSection(quick: boolean): Promise<PostprocessSection> {
  if (!existsSync(SCRIPT)) return { markdown: '_Skipped: bench/postprocess.ts is not in the tree yet._' };
  const loaded = await tryImport(() => import(SCRIPT) as Promise<Record<string, unknown>>, 'bench/postprocess.ts');
  if (!loaded.ok) return { markdown: `_Skipped: ${loaded.reason}._` };
  const fn = loaded.module.runPostprocessBench;
  if (typeof fn !== 'function') return { markdown: '_Skipped: bench/postprocess.ts does not export runPostprocessBench yet._' };
  const result = await (fn as PostprocessBench)({ quick });
  return { markdown: toMarkdown(result), result };
}
