/**
 * Transcribe (container-image Lambda: onnxruntime-node and the model exceed a zip's limits).
 * Reads the audio the separate stage chose (the `other` stem, or the mix), and with a stem the
 * decoded mix too; writes notes JSON.
 */
import { transcribeStage } from '../../src/pipeline/stages.js';
import { decodeWavFloat32, transcriptionToJson } from '../../src/pipeline/serialize.js';
import { parseConfig, transcribeConfigSchema } from '../shared/config.js';
import { lazyHandler, startTimer, type Handler, type HandlerDeps } from '../shared/handler.js';
import { workKeys } from '../shared/layout.js';
import { Storage } from '../shared/storage.js';
import type { PipelineState, SeparateRecord, StageRecord, TranscribeResult } from '../shared/types.js';

export function createHandler(deps: HandlerDeps): Handler<PipelineState, TranscribeResult> {
  const config = parseConfig(transcribeConfigSchema, deps.env, 'transcribe');
  const storage = new Storage(deps.s3);
  return async (event) => {
    const timer = startTimer();
    const keys = workKeys(event.workPrefix);
    // The separate stage's record, not the state, says where its audio is: a Batch job cannot
    // return values into the state.
    const separated = await storage.getJson<SeparateRecord>(config.OUTPUT_BUCKET, keys.record('separate'));
    const audio = decodeWavFloat32(await storage.getBytes(config.OUTPUT_BUCKET, separated.transcribeSourceKey));
    // Only set what is configured: onnxruntime rejects an explicit `undefined` thread count.
    const ortOptions = config.ORT_INTRA_OP_THREADS ? { intraOpNumThreads: config.ORT_INTRA_OP_THREADS } : {};
    // No stems: the stack runs without separation, and the upload is taken to be a solo recording.
    const source = separated.stemKeys ? 'separated' : 'solo';
    // A stem's transcriber may also listen to the decoded mix it came from (TranscribeOptions.mix).
    const mix = separated.stemKeys && separated.model
      ? { audio: decodeWavFloat32(await storage.getBytes(config.OUTPUT_BUCKET, keys.audio)), separator: separated.model.name }
      : undefined;
    const result = await transcribeStage(audio, config.TRANSCRIBER, { source, ...(mix ? { mix } : {}) }, ortOptions);
    await storage.putBytes(
      config.OUTPUT_BUCKET,
      keys.notes,
      new TextEncoder().encode(transcriptionToJson(result.transcription)),
      'application/json',
    );
    const out: TranscribeResult = { notesKey: keys.notes, noteCount: result.transcription.notes.length, model: result.model };
    const record: StageRecord = {
      stage: 'transcribe',
      startedAt: timer.startedAt,
      elapsedSec: timer.elapsedSec(),
      model: result.model,
      details: { noteCount: out.noteCount, sourceKey: separated.transcribeSourceKey, source, ...(mix ? { mixKey: keys.audio } : {}) },
    };
    await storage.putJson(config.OUTPUT_BUCKET, keys.record('transcribe'), record);
    deps.logger.info('transcribed', { noteCount: out.noteCount, elapsedSec: record.elapsedSec });
    return out;
  };
}

export const handler = lazyHandler('transcribe', createHandler);
