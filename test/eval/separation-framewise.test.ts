/**
 * mir_eval's framewise fixtures. Kept in their own file: each window needs its own 512-tap
 * filter solve (a dense Cholesky of size nb_sources * 512), which makes these the slowest
 * metric tests (tens of seconds on a busy 2-core machine).
 */
import { describe, it } from 'vitest';
import { bssEvalImagesFramewise, bssEvalSourcesFramewise } from '../../src/eval/separation.js';
import { HAVE_SEP_FIXTURES, expectCloseDb, loadSepCase, multichannel, sepCaseIds } from './sepFixtures.js';

describe.skipIf(!HAVE_SEP_FIXTURES)('bss_eval_*_framewise vs mir_eval fixtures', () => {
  for (const id of sepCaseIds()) {
    it(`output${id}.json: Framewise and Images Framewise`, () => {
      const c = loadSepCase(id);
      const F = c.expected.Framewise;
      const f = bssEvalSourcesFramewise(c.ref, c.est, { windowSamples: F.win as number, hopSamples: F.hop as number });
      expectCloseDb(f.sdr, F['Source to Distortion'], 'framewise SDR');
      expectCloseDb(f.sir, F['Source to Interference'], 'framewise SIR');
      expectCloseDb(f.sar, F['Source to Artifact'], 'framewise SAR');
      expectCloseDb(f.perm, F['Source permutation'], 'framewise perm');

      const IF = c.expected['Images Framewise'];
      const nchan = IF.nchan as number;
      const imf = bssEvalImagesFramewise(multichannel(c.ref, nchan), multichannel(c.est, nchan, IF.gain as number), {
        windowSamples: IF.win as number,
        hopSamples: IF.hop as number,
      });
      expectCloseDb(imf.sdr, IF['Source to Distortion'], 'image framewise SDR');
      expectCloseDb(imf.isr, IF['Image to Spatial'], 'image framewise ISR');
      expectCloseDb(imf.sir, IF['Source to Interference'], 'image framewise SIR');
      expectCloseDb(imf.sar, IF['Source to Artifact'], 'image framewise SAR');
      expectCloseDb(imf.perm, IF['Source permutation'], 'image framewise perm');
    });
  }
});
