/** Separation as a CPU container-image Lambda (`-c separation=lambda`). */
import { lazyHandler, type Handler, type HandlerDeps } from '../shared/handler.js';
import type { PipelineState, SeparateResult } from '../shared/types.js';
import { runSeparation } from './run.js';

export function createHandler(deps: HandlerDeps): Handler<PipelineState, SeparateResult> {
  return (event) => runSeparation(deps, event.workPrefix);
}

export const handler = lazyHandler('separate', createHandler);
