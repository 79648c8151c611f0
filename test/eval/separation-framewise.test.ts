/**
 * mir_eval's bss_eval_sources_framewise fixtures. In their own file: every window needs its own
 * 512-tap filter solve, which makes these the slowest metric tests (images: the sibling file).
 */
import { describe, it } from 'vitest';
import { bssEvalSourcesFramewise } from '../../src/eval/separation.js';
import { HAVE_SEP_FIXTURES, expectCloseDb, loadSepCase, sepCaseIds } from './sepFixtures.js';

describe.skipIf(!HAVE_SEP_FIXTURES)('bss_eval_sources_framewise vs mir_eval fixtures', () => {
  for (const id of sepCaseIds()) {
    it(`output${id}.json: Framewise`, () => {
      const c = loadSepCase(id);
      const F = c.expected.Framewise;
      const f = bssEvalSourcesFramewise(c.ref, c.est, { windowSamples: F.win as number, hopSamples: F.hop as number });
      expectCloseDb(f.sdr, F['Source to Distortion'], 'framewise SDR');
      expectCloseDb(f.sir, F['Source to Interference'], 'framewise SIR');
      expectCloseDb(f.sar, F['Source to Artifact'], 'framewise SAR');
      expectCloseDb(f.perm, F['Source permutation'], 'framewise perm');
    });
  }
});
