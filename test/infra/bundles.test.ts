/**
 * The zip functions as CDK bundles them (esbuild, ESM, SDK included, onnxruntime stubbed): every
 * bundle loads in a plain Node process, outside the repository, and exports `handler`. This is
 * what catches a module the bundle cannot resolve or a native import in a zip function.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthStack, type CfnTemplate } from '../../infra/synth.js';

let outdir: string;
let template: CfnTemplate;

beforeAll(() => {
  const synth = synthStack({ bundle: true, config: { separation: 'lambda' } });
  outdir = synth.outdir;
  template = synth.template;
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const zipFunctions = (): { kind: string; asset: string }[] =>
  Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.PackageType !== 'Image')
    .map((r) => ({
      kind: String((r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.STEMSCRIBE_FUNCTION ?? ''),
      // The staged asset folder is named after the hash that also names the uploaded zip.
      asset: `asset.${String((r.Properties?.Code as { S3Key?: string } | undefined)?.S3Key ?? '').replace(/\.zip$/, '')}`,
    }))
    .filter((f) => f.kind !== '');

describe('Zip function bundles', () => {
  it('bundles probe, postprocess, start and report-failure', () => {
    expect(zipFunctions().map((f) => f.kind).sort()).toEqual(['postprocess', 'probe', 'report-failure', 'start']);
  });

  it.each(['probe', 'postprocess', 'start', 'report-failure'])('%s: loads in plain Node 22 and exports handler', (kind) => {
    const fn = zipFunctions().find((f) => f.kind === kind);
    const dir = join(outdir, fn?.asset ?? '');
    const file = join(dir, 'index.mjs');
    expect(existsSync(file), file).toBe(true);
    // Everything is inside the bundle: nothing else in the asset folder but the source map.
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(statSync(file).size).toBeLessThan(20 * 1024 * 1024);
    const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(typeof m.handler);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: outdir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(out).toBe('function');
  });
});
