/**
 * Runs one song through the stack on this machine, no Docker, no AWS account:
 *
 *   npm run local:e2e -- <audio-file> <out-dir> [--separator htdemucs|none] [--separation batch|lambda]
 *
 * Synthesizes the CDK stack, boots the local cloud (S3 server, EventBridge rule, the synthesized
 * state machine), uploads the file under the upload prefix, waits for the execution, downloads
 * every output of that upload into <out-dir>, prints the execution's states with their timings,
 * and exits non-zero when the execution failed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Command, Option } from 'commander';
import { outputNameFor, RESULTS_PREFIX } from '../functions/shared/layout.js';
import { startLocalCloud, type LocalExecution } from '../localcloud/index.js';

interface Flags {
  separator: string;
  separation: 'batch' | 'lambda';
  postprocess: 'default' | 'raw';
  verbose: boolean;
  threads?: string;
}

export function formatStates(execution: LocalExecution): string {
  const t0 = execution.startDateMs;
  const rows = execution.states.map((s) => {
    const endMs = s.exitedAtMs ?? execution.stopDateMs ?? Date.now();
    const outcome = s.caught ? 'caught' : s.failed && !s.exitedAtMs ? 'failed' : 'ok';
    return [
      s.name,
      s.type,
      ((s.enteredAtMs - t0) / 1000).toFixed(2),
      ((endMs - s.enteredAtMs) / 1000).toFixed(2),
      String(s.retries),
      outcome,
    ];
  });
  const header = ['state', 'type', 'start s', 'elapsed s', 'retries', 'outcome'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const total = (((execution.stopDateMs ?? Date.now()) - t0) / 1000).toFixed(2);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), `execution ${execution.status} in ${total} s`].join('\n');
}

async function main(): Promise<number> {
  const program = new Command()
    .name('local-e2e')
    .argument('<audio-file>', 'song to upload')
    .argument('<out-dir>', 'where the outputs for this upload are downloaded')
    .addOption(new Option('--separator <name>', 'separator the stack is synthesized with').default('htdemucs'))
    .addOption(new Option('--separation <where>', 'GPU Batch job or CPU Lambda').choices(['batch', 'lambda']).default('batch'))
    .addOption(new Option('--postprocess <mode>', 'musical clean-up').choices(['default', 'raw']).default('default'))
    .option('--threads <n>', 'onnxruntime threads per function (default: all cores)')
    .option('--verbose', 'print the functions’ logs', false)
    .parse();
  const [audioFile, outDir] = program.args as [string, string];
  const flags = program.opts<Flags>();
  // Read the song first: a typo should not cost a synth.
  const body = readFileSync(audioFile);

  process.stderr.write(`synthesizing the stack (separation=${flags.separation}, separator=${flags.separator}) ...\n`);
  const cloud = await startLocalCloud({
    synth: { config: { separation: flags.separation, separator: flags.separator, postprocess: flags.postprocess } },
    verbose: flags.verbose,
    ...(flags.threads ? { functionEnv: { ORT_INTRA_OP_THREADS: flags.threads } } : {}),
  });
  try {
    const s3 = cloud.client();
    const key = `${cloud.uploadPrefix}${basename(audioFile)}`;
    const put = await s3.send(new PutObjectCommand({ Bucket: cloud.inputBucket, Key: key, Body: body }));
    const etag = (put.ETag ?? '').replace(/"/g, '');
    process.stderr.write(`uploaded s3://${cloud.inputBucket}/${key} (ETag ${etag}); waiting for the execution ...\n`);
    const execution = await cloud.executionFor(cloud.inputBucket, key, etag);
    if (!execution) {
      const why = cloud.events.deliveries.map((d) => d.error).filter(Boolean).join('; ');
      process.stderr.write(`no execution was started for ${key}${why ? `: ${why}` : ' (does the key match the rule pattern?)'}\n`);
      return 2;
    }

    // Everything this upload produced: results/<name>.* (MIDI, manifest, stems, error record).
    const name = outputNameFor(key, cloud.uploadPrefix);
    const prefix = `${RESULTS_PREFIX}${name}.`;
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: cloud.outputBucket, Prefix: prefix }));
    mkdirSync(outDir, { recursive: true });
    const downloaded: string[] = [];
    for (const object of listed.Contents ?? []) {
      if (!object.Key) continue;
      const got = await s3.send(new GetObjectCommand({ Bucket: cloud.outputBucket, Key: object.Key }));
      const target = join(outDir, relative(RESULTS_PREFIX, object.Key));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, await got.Body!.transformToByteArray());
      downloaded.push(target);
    }

    process.stdout.write(`\n${formatStates(execution)}\n\n`);
    process.stdout.write(`execution: ${execution.name}\n`);
    for (const f of downloaded) process.stdout.write(`  wrote ${f}\n`);
    if (execution.status !== 'SUCCEEDED') {
      process.stdout.write(`\nFAILED: ${execution.error ?? ''}: ${execution.cause ?? ''}\n`);
      return 1;
    }
    return 0;
  } finally {
    await cloud.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`local-e2e: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
