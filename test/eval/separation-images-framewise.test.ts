/**
 * mir_eval's bss_eval_images_framewise fixtures. In their own file: every window needs its own
 * 512-tap filter solve, which makes these the slowest metric tests (sources: the sibling file).
 */
import { describe, it } from 'vitest';
import { bssEvalImagesFramewise } from '../../src/eval/separation.js';
import { HAVE_SEP_FIXTURES, expectCloseDb, loadSepCase, multichannel, sepCaseIds } from './sepFixtures.js';

describe.skipIf(!HAVE_SEP_FIXTURES)('bss_eval_images_framewise vs mir_eval fixtures', () => {
  for (const id of sepCaseIds()) {
    it(`output${id}.json: Images Framewise`, () => {
      const c = loadSepCase(id);
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
