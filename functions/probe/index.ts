/**
 * Probe: the first state. Checks that the upload is audio the pipeline can take (size before
 * download, then decodability and duration), and writes the decoded mix as float WAV so that
 * later stages never decode the user's file again. Input bucket: read only.
 */
import { InputError } from '../../src/errors.js';
import { decodeStage } from '../../src/pipeline/stages.js';
import { encodeWavFloat32 } from '../../src/pipeline/serialize.js';
import { DEFAULT_INPUT_LIMITS } from '../../src/audio/limits.js';
import { parseConfig, probeConfigSchema } from '../shared/config.js';
import { lazyHandler, startTimer, type Handler, type HandlerDeps } from '../shared/handler.js';
import { workKeys } from '../shared/layout.js';
import { Storage } from '../shared/storage.js';
import type { JobInput, ProbeResult, StageRecord } from '../shared/types.js';

const formatMiB = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * The key as the event gave it, or its form-URL-decoded spelling: S3 notifications encode keys
 * ("red flower.mp3" -> "red+flower.mp3"); accepting both keeps odd file names working whichever
 * way the event arrives.
 */
async function locateInput(storage: Storage, bucket: string, key: string): Promise<{ key: string; sizeBytes: number } | undefined> {
  const sizeBytes = await storage.sizeOf(bucket, key);
  if (sizeBytes !== undefined) return { key, sizeBytes };
  let decoded: string;
  try {
    decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
  if (decoded === key) return undefined;
  const decodedSize = await storage.sizeOf(bucket, decoded);
  return decodedSize === undefined ? undefined : { key: decoded, sizeBytes: decodedSize };
}

export function createHandler(deps: HandlerDeps): Handler<JobInput, ProbeResult> {
  const config = parseConfig(probeConfigSchema, deps.env, 'probe');
  const storage = new Storage(deps.s3);
  const limits = {
    maxBytes: config.MAX_INPUT_BYTES ?? DEFAULT_INPUT_LIMITS.maxBytes,
    maxDurationSec: config.MAX_DURATION_SEC ?? DEFAULT_INPUT_LIMITS.maxDurationSec,
  };
  return async (event) => {
    const timer = startTimer();
    const located = await locateInput(storage, event.bucket, event.key);
    if (!located) {
      throw new InputError('NOT_FOUND', `s3://${event.bucket}/${event.key} no longer exists; upload the file again.`);
    }
    const { key, sizeBytes } = located;
    const fileName = key.slice(key.lastIndexOf('/') + 1);
    // Refuse huge files before downloading them into a Lambda's memory.
    if (sizeBytes > limits.maxBytes) {
      throw new InputError(
        'TOO_LARGE',
        `${fileName} is ${formatMiB(sizeBytes)}; the limit is ${formatMiB(limits.maxBytes)}. Upload a compressed file (MP3, FLAC, OGG) or a shorter excerpt.`,
      );
    }
    const bytes = await storage.getInput(event.bucket, key);
    const decoded = await decodeStage(bytes, fileName, limits);
    const keys = workKeys(event.workPrefix);
    await storage.putBytes(config.OUTPUT_BUCKET, keys.audio, encodeWavFloat32(decoded.audio), 'audio/wav');
    const result: ProbeResult = {
      durationSec: decoded.durationSec,
      sampleRateHz: decoded.audio.sampleRateHz,
      channelCount: decoded.audio.channels.length,
      warnings: decoded.warnings,
    };
    const record: StageRecord = {
      stage: 'probe',
      startedAt: timer.startedAt,
      elapsedSec: timer.elapsedSec(),
      details: { ...result, sizeBytes },
    };
    await storage.putJson(config.OUTPUT_BUCKET, keys.record('probe'), record);
    deps.logger.info('probed', { key: event.key, ...result });
    return result;
  };
}

export const handler = lazyHandler('probe', createHandler);
