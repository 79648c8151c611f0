/**
 * The CPU-Lambda separation variant (`-c separation=lambda`) with the real htdemucs model on a
 * 2 s clip: stems are written, published next to the MIDI and listed in the manifest. The slowest
 * cloud test (htdemucs works in ~7.8 s segments, so even 2 s costs one full segment): 40 s on
 * the shared 2-core machine, so it runs only when asked: STEMSCRIBE_E2E_HTDEMUCS=1. The same path
 * with `unmix` (five stems, the transcriber reads `piano`) is fast and always runs.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionNameFor, workKeys, workPrefixFor } from '../../functions/shared/layout.js';
import type { Manifest, SeparateRecord, StageRecord } from '../../functions/shared/types.js';
import { decodeWavFloat32 } from '../../src/pipeline/serialize.js';
import { STEM_NAMES } from '../../src/types.js';
import { startLocalCloud, type LocalCloud } from '../../localcloud/index.js';
import { shortSongWav } from './fixtures.js';

let cloud: LocalCloud;

beforeAll(async () => {
  if (process.env.STEMSCRIBE_E2E_HTDEMUCS !== '1') return;
  cloud = await startLocalCloud({
    synth: { config: { separation: 'lambda', separator: 'htdemucs' } },
    functionEnv: { ORT_INTRA_OP_THREADS: '2' },
  });
});

afterAll(async () => {
  await cloud?.stop();
});

const RUN = process.env.STEMSCRIBE_E2E_HTDEMUCS === '1';

describe.skipIf(!RUN)('Local cloud: htdemucs separation in the CPU Lambda (STEMSCRIBE_E2E_HTDEMUCS=1)', () => {
  it('writes four stems at the input length and lists them in the manifest', async () => {
    const s3 = cloud.client();
    const put = await s3.send(new PutObjectCommand({ Bucket: cloud.inputBucket, Key: 'uploads/duet.wav', Body: shortSongWav(2) }));
    const execution = await cloud.executionFor(cloud.inputBucket, 'uploads/duet.wav', (put.ETag ?? '').replace(/"/g, ''));
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    expect(cloud.lambda.countInvocations('separate')).toBe(1);
    expect(cloud.batch.jobs).toHaveLength(0);

    const get = async (key: string): Promise<Uint8Array> =>
      (await s3.send(new GetObjectCommand({ Bucket: cloud.outputBucket, Key: key }))).Body!.transformToByteArray();
    const manifest = JSON.parse(new TextDecoder().decode(await get('results/duet.json'))) as Manifest;
    expect(manifest.models.separator?.name).toBe('htdemucs');
    expect(Object.keys(manifest.outputs.stems).sort()).toEqual([...STEM_NAMES].sort());
    for (const stem of STEM_NAMES) {
      const audio = decodeWavFloat32(await get(`results/duet.stems/${stem}.wav`));
      expect(audio.sampleRateHz).toBe(44100);
      expect(audio.channels).toHaveLength(2);
      expect(audio.channels[0].length).toBe(2 * 44100);
    }
    s3.destroy();
  });
});

describe('Local cloud: unmix separation in the CPU Lambda (five stems)', () => {
  let unmixCloud: LocalCloud;
  beforeAll(async () => {
    unmixCloud = await startLocalCloud({
      synth: { config: { separation: 'lambda', separator: 'unmix' } },
      functionEnv: { ORT_INTRA_OP_THREADS: '1' },
    });
  });
  afterAll(async () => {
    await unmixCloud?.stop();
  });

  it('publishes the piano stem with the other four and transcribes other+piano', async () => {
    const s3 = unmixCloud.client();
    const put = await s3.send(new PutObjectCommand({ Bucket: unmixCloud.inputBucket, Key: 'uploads/duet.wav', Body: shortSongWav(2) }));
    const etag = (put.ETag ?? '').replace(/"/g, '');
    const execution = await unmixCloud.executionFor(unmixCloud.inputBucket, 'uploads/duet.wav', etag);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    const get = async (key: string): Promise<Uint8Array> =>
      (await s3.send(new GetObjectCommand({ Bucket: unmixCloud.outputBucket, Key: key }))).Body!.transformToByteArray();
    const manifest = JSON.parse(new TextDecoder().decode(await get('results/duet.json'))) as Manifest;
    expect(manifest.models.separator?.name).toBe('unmix');
    expect(Object.keys(manifest.outputs.stems).sort()).toEqual([...STEM_NAMES, 'piano'].sort());
    const piano = decodeWavFloat32(await get('results/duet.stems/piano.wav'));
    expect(piano.channels[0].length).toBe(2 * 44100);
    const work = workPrefixFor(executionNameFor(unmixCloud.inputBucket, 'uploads/duet.wav', etag));
    const record = JSON.parse(new TextDecoder().decode(await get(workKeys(work).record('separate')))) as SeparateRecord;
    expect(record.transcribeSourceKey).toBe(workKeys(work).transcribeSource);
    // The transcriber's input is other + piano, sample by sample (float32 WAVs: exact up to rounding).
    const source = decodeWavFloat32(await get(record.transcribeSourceKey));
    const other = decodeWavFloat32(await get(workKeys(work).stem('other')));
    const workPiano = decodeWavFloat32(await get(workKeys(work).stem('piano')));
    let maxDiff = 0;
    for (let i = 0; i < source.channels[0].length; i++) maxDiff = Math.max(maxDiff, Math.abs(source.channels[0][i] - other.channels[0][i] - workPiano.channels[0][i]));
    expect(maxDiff).toBeLessThan(1e-6);
    expect(source.channels[0].some((v) => v !== 0)).toBe(true);
    const transcribed = JSON.parse(new TextDecoder().decode(await get(workKeys(work).record('transcribe')))) as StageRecord;
    // The transcriber also read the decoded mix the stem came from (TranscribeOptions.mix).
    expect(transcribed.details).toMatchObject({ source: 'separated', mixKey: workKeys(work).audio });
    s3.destroy();
  });
});
