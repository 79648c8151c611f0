/**
 * Speed and memory per stage: runs `bench/speed.ts` (another module's benchmark: each stage in its
 * own child process, real-time factor and peak RSS) and keeps its tables. Falls back to a message
 * when that file is absent.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SPEED_SCRIPT = fileURLToPath(new URL('../speed.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

export interface SpeedSection {
  args: string[];
  exitCode: number | null;
  markdown: string;
  /** Per-stage rows parsed from the markdown tables. */
  rows: Array<Record<string, string>>;
}

export function parseMarkdownTables(md: string): Array<Record<string, string>> {
  const rows: Array<Record<string, string>> = [];
  let headers: string[] | null = null;
  for (const line of md.split('\n')) {
    if (!line.startsWith('|')) {
      headers = null;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.every((c) => /^-+$/.test(c))) continue;
    if (!headers) headers = cells;
    else rows.push(Object.fromEntries(headers.map((h, i) => [h, cells[i] ?? ''])));
  }
  return rows;
}

export async function runSpeedSection(quick: boolean, log: (s: string) => void, extraArgs?: string[]): Promise<SpeedSection> {
  const args = extraArgs ?? (quick ? ['--minutes', '0.5', '--long-minutes', '0'] : ['--minutes', '0.5,5', '--long-minutes', '10']);
  if (!existsSync(SPEED_SCRIPT)) return { args, exitCode: null, markdown: '_Skipped: bench/speed.ts is not in the tree yet._', rows: [] };
  log(`  running bench/speed.ts ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(TSX, [SPEED_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) log(`    ${line}`);
    });
    child.on('close', (code) => {
      // Drop speed.ts's own title; its machine line duplicates ours.
      const markdown = out
        .split('\n')
        .filter((l) => !l.startsWith('# stemscribe speed benchmark'))
        .join('\n')
        .trim()
        .replace(/^## /gm, '#### ');
      resolve({ args, exitCode: code, markdown: code === 0 ? markdown : `${markdown}\n\n_bench/speed.ts exited with code ${code}._`, rows: parseMarkdownTables(markdown) });
    });
  });
}
