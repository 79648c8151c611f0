/**
 * Separation, shared by the two ways it is deployed: the AWS Batch GPU job (`batch.ts`) and the
 * CPU container Lambda (`index.ts`). Reads the decoded mix, writes the stems (four, or five with
 * `piano`) and a record that tells the transcriber which audio to read.
 */
import { separateStage } from '../../src/pipeline/stages.js';
import { decodeWavFloat32, encodeWavFloat32 } from '../../src/pipeline/serialize.js';
import type { SeparatorName } from '../../src/separation/index.js';
import { presentStems, transcriptionSource } from '../../src/separation/stems.js';
import type { StemName } from '../../src/types.js';
import { parseConfig, separateConfigSchema } from '../shared/config.js';
import { startTimer, type HandlerDeps } from '../shared/handler.js';
import { workKeys } from '../shared/layout.js';
import { Storage } from '../shared/storage.js';
import type { SeparateRecord, SeparateResult } from '../shared/types.js';

export async function runSeparation(deps: HandlerDeps, workPrefix: string): Promise<SeparateResult> {
  const config = parseConfig(separateConfigSchema, deps.env, 'separate');
  const storage = new Storage(deps.s3);
  const keys = workKeys(workPrefix);
  const timer = startTimer();
  const separatorName = config.SEPARATOR as SeparatorName;
  const providers = config.STEMSCRIBE_EXECUTION_PROVIDERS.split(',').map((p) => p.trim());

  if (config.SEPARATOR === 'none') {
    // Deployed without a separator: the transcriber reads the mix itself.
    const record: SeparateRecord = {
      stage: 'separate',
      startedAt: timer.startedAt,
      elapsedSec: timer.elapsedSec(),
      model: null,
      transcribeSourceKey: keys.audio,
      details: { skipped: true },
    };
    await storage.putJson(config.OUTPUT_BUCKET, keys.record('separate'), record);
    return { transcribeSourceKey: keys.audio, model: null };
  }

  const audio = decodeWavFloat32(await storage.getBytes(config.OUTPUT_BUCKET, keys.audio));
  let lastLoggedTenth = -1;
  const separated = await separateStage(audio, separatorName, {
    onProgress: (fraction) => {
      const tenth = Math.floor(fraction * 10);
      if (tenth > lastLoggedTenth) {
        lastLoggedTenth = tenth;
        deps.logger.info('separating', { percent: tenth * 10 });
      }
    },
  }, {
    executionProvider: providers.includes('cuda') ? 'cuda' : 'cpu',
    // Only when configured: onnxruntime rejects an explicit `undefined` thread count.
    ...(config.ORT_INTRA_OP_THREADS ? { intraOpNumThreads: config.ORT_INTRA_OP_THREADS } : {}),
  });
  const stemKeys: Partial<Record<StemName, string>> = {};
  for (const [stem, stemAudio] of presentStems(separated.stems)) {
    stemKeys[stem] = keys.stem(stem);
    await storage.putBytes(config.OUTPUT_BUCKET, keys.stem(stem), encodeWavFloat32(stemAudio), 'audio/wav');
  }
  // The transcriber reads `other`, or other+piano from a five-stem separator (written once here).
  const source = transcriptionSource(separated.stems);
  let transcribeSourceKey = keys.stem('other');
  if (source.label !== 'other') {
    transcribeSourceKey = keys.transcribeSource;
    await storage.putBytes(config.OUTPUT_BUCKET, transcribeSourceKey, encodeWavFloat32(source.audio), 'audio/wav');
  }
  const record: SeparateRecord = {
    stage: 'separate',
    startedAt: timer.startedAt,
    elapsedSec: timer.elapsedSec(),
    model: separated.model,
    transcribeSourceKey,
    stemKeys,
  };
  await storage.putJson(config.OUTPUT_BUCKET, keys.record('separate'), record);
  deps.logger.info('separated', { model: separated.model, elapsedSec: record.elapsedSec });
  return { transcribeSourceKey: record.transcribeSourceKey, model: separated.model };
}
