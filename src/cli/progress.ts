/** One progress bar per pipeline stage on a terminal; nothing at all when stderr is piped. */
import cliProgress from 'cli-progress';
import type { PipelineHooks, PipelineStage } from '../pipeline/run.js';

const STAGE_LABELS: Record<PipelineStage, string> = {
  decode: 'decode     ',
  separate: 'separate   ',
  transcribe: 'transcribe ',
  postprocess: 'postprocess',
};

export interface ProgressReporter {
  hooks: PipelineHooks;
  stop(): void;
}

export function createProgressReporter(enabled: boolean): ProgressReporter {
  if (!enabled) return { hooks: {}, stop: () => undefined };
  const multi = new cliProgress.MultiBar(
    {
      format: ' {stage} |{bar}| {percentage}% | {elapsed}s',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<PipelineStage, cliProgress.SingleBar>();
  const startMs = new Map<PipelineStage, number>();
  const elapsed = (stage: PipelineStage): string =>
    ((performance.now() - (startMs.get(stage) ?? performance.now())) / 1000).toFixed(1);
  return {
    hooks: {
      onStageStart(stage) {
        startMs.set(stage, performance.now());
        bars.set(stage, multi.create(100, 0, { stage: STAGE_LABELS[stage], elapsed: '0.0' }));
      },
      onStageProgress(stage, fractionDone) {
        bars.get(stage)?.update(Math.round(fractionDone * 100), { elapsed: elapsed(stage) });
      },
      onStageEnd(stage) {
        bars.get(stage)?.update(100, { elapsed: elapsed(stage) });
      },
    },
    stop: () => multi.stop(),
  };
}
