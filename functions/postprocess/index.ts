/**
 * Post-process and publish (esbuild-bundled Lambda). Musical clean-up, MIDI encoding, then the
 * results: `<name>.mid`, the stems copied out of the work area, and the manifest last, so a
 * manifest with status "succeeded" means every output it lists is in place.
 */
import type { PostprocessOptions } from '../../src/postprocess/index.js';
import { postprocessStage } from '../../src/pipeline/stages.js';
import { transcriptionFromJson } from '../../src/pipeline/serialize.js';
import { ALL_STEM_NAMES, type StemName } from '../../src/types.js';
import { parseConfig, postprocessConfigSchema } from '../shared/config.js';
import { lazyHandler, startTimer, type Handler, type HandlerDeps } from '../shared/handler.js';
import { resultKeys, workKeys, type CloudStage } from '../shared/layout.js';
import { Storage } from '../shared/storage.js';
import type { Manifest, PipelineState, PostprocessResult, SeparateRecord, StageRecord } from '../shared/types.js';

export function createHandler(deps: HandlerDeps): Handler<PipelineState, PostprocessResult> {
  const config = parseConfig(postprocessConfigSchema, deps.env, 'postprocess');
  const storage = new Storage(deps.s3);
  const bucket = config.OUTPUT_BUCKET;
  return async (event) => {
    const timer = startTimer();
    const work = workKeys(event.workPrefix);
    const results = resultKeys(event.name);
    const transcription = transcriptionFromJson(new TextDecoder().decode(await storage.getBytes(bucket, work.notes)));
    const trackName = event.name.slice(event.name.lastIndexOf('/') + 1);
    // 'raw' skips clean-up; otherwise the core's defaults (an empty options object).
    const options: PostprocessOptions | 'raw' = config.POSTPROCESS === 'raw' ? 'raw' : {};
    const post = await postprocessStage(transcription, options, trackName);
    await storage.putBytes(bucket, results.midi, post.midi, 'audio/midi');

    const probe = await storage.getJson<StageRecord>(bucket, work.record('probe'));
    const separate = await storage.getJson<SeparateRecord>(bucket, work.record('separate'));
    const transcribe = await storage.getJson<StageRecord>(bucket, work.record('transcribe'));
    const stems: Partial<Record<StemName, string>> = {};
    for (const stem of ALL_STEM_NAMES) {
      const from = separate.stemKeys?.[stem];
      if (!from) continue;
      await storage.copy(bucket, from, results.stem(stem));
      stems[stem] = results.stem(stem);
    }
    const ownRecord: StageRecord = { stage: 'postprocess', startedAt: timer.startedAt, elapsedSec: timer.elapsedSec() };
    const timings = [probe, separate, transcribe, ownRecord].map((r) => ({
      stage: r.stage as CloudStage,
      startedAt: r.startedAt,
      elapsedSec: r.elapsedSec,
    }));
    const warnings = Array.isArray(probe.details?.warnings) ? (probe.details.warnings as string[]) : [];
    const manifest: Manifest = {
      status: 'succeeded',
      input: { bucket: event.bucket, key: event.key, etag: event.etag, sizeBytes: event.sizeBytes },
      execution: event.workPrefix.split('/').filter(Boolean).pop() ?? '',
      durationSec: typeof probe.details?.durationSec === 'number' ? probe.details.durationSec : 0,
      noteCount: post.score.notes.length,
      outputs: { midi: results.midi, stems },
      models: { separator: separate.model ?? null, transcriber: transcribe.model ?? null },
      timings,
      warnings,
      createdAt: new Date().toISOString(),
    };
    await storage.putJson(bucket, work.record('postprocess'), ownRecord);
    await storage.putJson(bucket, results.manifest, manifest);
    // An error record left by an earlier failed upload under this name is no longer true.
    await storage.delete(bucket, results.error);
    deps.logger.info('published', { midi: results.midi, noteCount: manifest.noteCount });
    return { midiKey: results.midi, manifestKey: results.manifest, noteCount: manifest.noteCount };
  };
}

export const handler = lazyHandler('postprocess', createHandler);
