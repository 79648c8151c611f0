/**
 * Source-separation metrics: BSS-Eval (SDR/SIR/SAR, and ISR for images) ported from
 * `mir_eval.separation` (https://github.com/craffel/mir_eval, MIT; Vincent, Gribonval & Févotte,
 * "Performance measurement in blind audio source separation", IEEE TASLP 14(4), 2006), a
 * museval-style framewise median, and scale-invariant SDR (Le Roux et al., ICASSP 2019).
 *
 * BSS-Eval decomposes an estimate into the part explained by the target reference through a
 * 512-tap time-invariant filter (`s_true + e_spat`), the part explained additionally by the other
 * references (`e_interf`), and the rest (`e_artif`). The filters are least-squares solutions whose
 * normal equations are built from FFT cross-correlations, exactly as mir_eval's `_project`.
 *
 * Two liberties, neither of which changes a result beyond float rounding:
 * - The Gram matrix is factored once and reused for every estimate and channel, instead of
 *   mir_eval's LU solve per (estimate, reference) pair; it is block-Toeplitz, so the factorisation
 *   is a multichannel Levinson recursion with iterative refinement (dense Cholesky as fallback).
 * - Reference signals that are exact copies of another (or all zero) are dropped from the
 *   projection basis: they span no new directions, so the projection is unchanged, and the
 *   normal equations stay non-singular (mir_eval falls back to `lstsq` there).
 */
import { EvalInputError } from './errors.js';
import { crossCorrelation, fftInPlace, nextPow2, realFft, type Spectrum } from './fft.js';
import {
  blockToeplitzFactor,
  blockToeplitzSolve,
  choleskyFactor,
  choleskySolve,
  type BlockToeplitzFactor,
  type CholeskyFactor,
} from './linalg.js';

/** Length of the distortion filters, samples (mir_eval's `flen`). */
export const FILTER_LENGTH = 512;
/** mir_eval's `MAX_SOURCES`: the permutation search is factorial in the number of sources. */
export const MAX_SOURCES = 100;

/** One signal per source, [shape=(nb_sources, nb_samples)]. */
export type SourceSignals = readonly ArrayLike<number>[];
/** Multichannel source images, [shape=(nb_sources, nb_channels, nb_samples)]. */
export type SourceImages = readonly (readonly ArrayLike<number>[])[];

export interface BssSourcesScores {
  /** [shape=(nb_sources,)] dB, for reference source j and its matched estimate perm[j]. */
  sdr: number[];
  sir: number[];
  sar: number[];
  /** Estimated source perm[j] corresponds to reference j. */
  perm: number[];
}

export interface BssImagesScores extends BssSourcesScores {
  isr: number[];
}

/** Framewise scores [shape=(nb_sources, nb_frames)]; NaN for frames where a source is silent. */
export interface BssSourcesFramewise {
  sdr: number[][];
  sir: number[][];
  sar: number[][];
  perm: number[][];
}

export interface BssImagesFramewise extends BssSourcesFramewise {
  isr: number[][];
}

export interface BssOptions {
  /** Search the source permutation that maximises mean SIR. */
  computePermutation?: boolean;
  /** Distortion filter length, samples. Default 512. */
  filterLength?: number;
}

export interface FramewiseOptions extends BssOptions {
  windowSamples: number;
  hopSamples: number;
}

/** `mir_eval.separation._safe_db`: +Infinity when there is no error energy. */
function safeDb(num: number, den: number): number {
  if (den === 0) return Infinity;
  return 10 * Math.log10(num / den);
}

/** `_any_source_silent`: a source whose channel-sum is zero at every sample. */
function anySourceSilent(images: SourceImages, start = 0, end?: number): boolean {
  return images.some((channels) => {
    const stop = end ?? channels[0]?.length ?? 0;
    for (let t = start; t < stop; t++) {
      let s = 0;
      for (const ch of channels) s += ch[t];
      if (s !== 0) return false;
    }
    return true;
  });
}

/** `mir_eval.separation.validate`, on images (sources are single-channel images). */
function validateImages(reference: SourceImages, estimated: SourceImages): string[] {
  const shape = (x: SourceImages): number[] => [x.length, x[0]?.length ?? 0, x[0]?.[0]?.length ?? 0];
  const consistent = (x: SourceImages): boolean =>
    x.every((chs) => chs.length === x[0].length && chs.every((c) => c.length === x[0][0].length));
  const rs = shape(reference);
  const es = shape(estimated);
  if (!consistent(reference) || !consistent(estimated) || rs.some((v, i) => v !== es[i])) {
    throw new EvalInputError(
      `The shape of estimated sources and the true sources should match. reference_sources.shape = (${rs.join(', ')}), ` +
        `estimated_sources.shape = (${es.join(', ')})`,
    );
  }
  const warnings: string[] = [];
  const size = (s: number[]): number => s[0] * s[1] * s[2];
  if (size(rs) === 0) {
    warnings.push('reference_sources is empty, should be of size (nsrc, nsample). sdr, sir, sar, and perm will all be empty');
  } else if (anySourceSilent(reference)) {
    throw new EvalInputError(
      'All the reference sources should be non-silent (not all-zeros), but at least one of the reference sources is all 0s, ' +
        'which introduces ambiguity to the evaluation. (Otherwise we can add infinitely many all-zero sources.)',
    );
  }
  if (size(es) === 0) {
    warnings.push('estimated_sources is empty, should be of size (nsrc, nsample). sdr, sir, sar, and perm will all be empty');
  } else if (anySourceSilent(estimated)) {
    throw new EvalInputError(
      'All the estimated sources should be non-silent (not all-zeros), but at least one of the estimated sources is all 0s. ' +
        'Since we require each reference source to be non-silent, having a silent estimated source will result in an underdetermined system.',
    );
  }
  if (rs[0] > MAX_SOURCES) {
    throw new EvalInputError(
      `The supplied matrices should be of shape (nsrc, nsampl) but reference_sources.shape[0] = ${rs[0]} which is greater than MAX_SOURCES = ${MAX_SOURCES}.`,
    );
  }
  return warnings;
}

/** A least-squares projector onto the span of delayed copies (0..flen-1 samples) of some signals. */
interface Projector {
  /** Indices (into the spectra list) of the basis signals kept after dropping duplicates. */
  readonly basis: readonly number[];
  /** Levinson inverse factorisation (fast path) ... */
  readonly toeplitz: BlockToeplitzFactor | null;
  /** ... or dense Cholesky when the recursion meets a (numerically) singular block. */
  readonly factor: CholeskyFactor | null;
}

/**
 * Shared state of one BSS-Eval call: spectra of all reference signals (flattened
 * source-major/channel-minor) and the cross-correlations between them.
 */
class ProjectionContext {
  public readonly nFft: number;
  public readonly nSamples: number;
  public readonly flen: number;
  public readonly spectra: Spectrum[];
  private readonly signals: readonly ArrayLike<number>[];
  private readonly corrCache = new Map<string, Float64Array>();
  /** Canonical index of each signal: the first identical signal, or -1 for all-zero signals. */
  private readonly canonical: number[];

  public constructor(signals: readonly ArrayLike<number>[], flen: number) {
    this.signals = signals;
    this.nSamples = signals[0].length;
    this.flen = flen;
    this.nFft = nextPow2(this.nSamples + flen - 1);
    this.spectra = signals.map((s) => realFft(s, this.nFft));
    this.canonical = signals.map((s, i) => {
      if (isAllZero(s)) return -1;
      for (let k = 0; k < i; k++) if (sameSignal(signals[k], s)) return k;
      return i;
    });
  }

  private corr(i: number, j: number): Float64Array {
    const key = `${i},${j}`;
    let c = this.corrCache.get(key);
    if (!c) {
      c = crossCorrelation(this.spectra[i], this.spectra[j]);
      this.corrCache.set(key, c);
    }
    return c;
  }

  /**
   * Builds and factors the normal equations for the span of the given signals. The Gram matrix
   * (mir_eval's G) is block-Toeplitz once lags and sources are interleaved:
   * T[(a, i)][(b, j)] = R(b - a)[i][j] = ssf_ij[(b - a) mod nFft], so the Levinson recursion
   * factors it in O(flen^2 K^3); a dense Cholesky is the fallback.
   */
  public projector(signalIndices: readonly number[]): Projector {
    const basis = [...new Set(signalIndices.map((i) => this.canonical[i]).filter((i) => i >= 0))];
    if (basis.length === 0) return { basis, toeplitz: null, factor: null };
    const flen = this.flen;
    const nFft = this.nFft;
    const k = basis.length;
    const r: Float64Array[] = Array.from({ length: flen }, () => new Float64Array(k * k));
    for (let bi = 0; bi < k; bi++) {
      for (let bj = 0; bj <= bi; bj++) {
        const ssf = this.corr(basis[bi], basis[bj]);
        for (let d = 0; d < flen; d++) {
          r[d][bi * k + bj] = ssf[d];
          // ssf_ji[d] = ssf_ij[-d]
          r[d][bj * k + bi] = ssf[(nFft - d) % nFft];
        }
      }
    }
    const toeplitz = blockToeplitzFactor(r, k);
    return { basis, toeplitz, factor: toeplitz ? null : this.denseFactor({ basis, toeplitz: null, factor: null }) };
  }

  private readonly denseCache = new Map<Projector, CholeskyFactor>();
  /** Projectors whose Levinson solve did not refine to full accuracy: dense from then on. */
  private readonly levinsonFailed = new Set<Projector>();

  /** Dense Gram matrix (mir_eval's G, source-major) and its Cholesky factor. */
  private denseFactor(p: Projector): CholeskyFactor {
    if (p.factor) return p.factor;
    const cached = this.denseCache.get(p);
    if (cached) return cached;
    const { basis } = p;
    const flen = this.flen;
    const nFft = this.nFft;
    const k = basis.length;
    const n = k * flen;
    const g = new Float64Array(n * n);
    for (let bi = 0; bi < k; bi++) {
      for (let bj = 0; bj <= bi; bj++) {
        // ss = toeplitz(c=[ssf[0], ssf[-1], ..., ssf[-(flen-1)]], r=ssf[:flen]): ss[a][b] = ssf[(b - a) mod nFft]
        const ssf = this.corr(basis[bi], basis[bj]);
        for (let a = 0; a < flen; a++) {
          const row = (bi * flen + a) * n + bj * flen;
          for (let b = 0; b < flen; b++) g[row + b] = ssf[(b - a + nFft) % nFft];
        }
      }
    }
    // Only the lower triangle is read by the factorisation; fill the upper for clarity of layout.
    for (let row = 0; row < n; row++) for (let c = row + 1; c < n; c++) g[row * n + c] = g[c * n + row];
    const factor = choleskyFactor(g, n);
    this.denseCache.set(p, factor);
    return factor;
  }

  /**
   * Projection of `target` (given by its spectrum) onto the projector's span, length
   * nSamples + flen - 1 (mir_eval's `sproj`).
   */
  public project(p: Projector, target: Spectrum): Float64Array {
    const len = this.nSamples + this.flen - 1;
    if (!p.factor && !p.toeplitz) return new Float64Array(len);
    const flen = this.flen;
    const nFft = this.nFft;
    // D[i*flen + a] = ssef[-a]: inner products of the target with the delayed basis signals.
    const d = new Float64Array(p.basis.length * flen);
    p.basis.forEach((sig, bi) => {
      const ssef = crossCorrelation(this.spectra[sig], target);
      for (let a = 0; a < flen; a++) d[bi * flen + a] = ssef[(nFft - a) % nFft];
    });
    let filters: Float64Array | null = null;
    if (p.toeplitz && !this.levinsonFailed.has(p)) {
      // Dense order (source-major) <-> interleaved order (lag-major) of the block-Toeplitz form.
      const k = p.basis.length;
      const y = new Float64Array(d.length);
      for (let bi = 0; bi < k; bi++) for (let a = 0; a < flen; a++) y[a * k + bi] = d[bi * flen + a];
      const x = blockToeplitzSolve(p.toeplitz, y);
      if (x) {
        filters = new Float64Array(d.length);
        for (let bi = 0; bi < k; bi++) for (let a = 0; a < flen; a++) filters[bi * flen + a] = x[a * k + bi];
      } else {
        this.levinsonFailed.add(p);
      }
    }
    // Ill-conditioned system: the backward-stable dense Cholesky (built once, on demand).
    filters ??= choleskySolve(this.denseFactor(p), d);
    // sproj = sum_i conv(C_i, s_i); the FFT size already exceeds the linear-convolution length.
    const re = new Float64Array(nFft);
    const im = new Float64Array(nFft);
    p.basis.forEach((sig, bi) => {
      const c = realFft(filters.subarray(bi * flen, (bi + 1) * flen), nFft);
      const s = this.spectra[sig];
      for (let k = 0; k < nFft; k++) {
        re[k] += c.re[k] * s.re[k] - c.im[k] * s.im[k];
        im[k] += c.re[k] * s.im[k] + c.im[k] * s.re[k];
      }
    });
    fftInPlace(re, im, true);
    return re.slice(0, len);
  }
}

function isAllZero(s: ArrayLike<number>): boolean {
  for (let i = 0; i < s.length; i++) if (s[i] !== 0) return false;
  return true;
}

function sameSignal(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function energy(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** Energy of (a - b) where `a` is an unpadded signal and `b` is padded with flen-1 samples. */
function energyOfDiff(a: ArrayLike<number> | null, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    const v = (a !== null && i < a.length ? a[i] : 0) - b[i];
    s += v * v;
  }
  return s;
}

function energyOfDiffPadded(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i] - b[i];
    s += v * v;
  }
  return s;
}

interface PairCriteria {
  sdr: number;
  isr: number;
  sir: number;
  sar: number;
}

/**
 * Criteria for every (estimate, reference) pair of an images problem: `crit[jest][jtrue]`.
 * Sources are the nb_channels = 1 case. Each reference's own projector and the all-reference
 * projector are factored once and shared by all estimates and channels.
 */
function pairCriteria(
  reference: SourceImages,
  estimated: SourceImages,
  flen: number,
  pairs: Array<[number, number]>,
  mode: 'sources' | 'images',
): Map<string, PairCriteria> {
  const nChan = reference[0].length;
  const flat = reference.flatMap((chs) => [...chs]);
  const ctx = new ProjectionContext(flat, flen);
  const allProjector = ctx.projector(flat.map((_, i) => i));
  const ownProjectors = new Map<number, Projector>();
  const estSpectra = new Map<number, Spectrum[]>();
  const allProjections = new Map<number, Float64Array[]>();
  const out = new Map<string, PairCriteria>();
  for (const [jest, jtrue] of pairs) {
    let own = ownProjectors.get(jtrue);
    if (!own) {
      own = ctx.projector(Array.from({ length: nChan }, (_, c) => jtrue * nChan + c));
      ownProjectors.set(jtrue, own);
    }
    let spectra = estSpectra.get(jest);
    if (!spectra) {
      spectra = estimated[jest].map((ch) => realFft(ch, ctx.nFft));
      estSpectra.set(jest, spectra);
    }
    let pAll = allProjections.get(jest);
    if (!pAll) {
      pAll = spectra.map((sp) => ctx.project(allProjector, sp));
      allProjections.set(jest, pAll);
    }
    let eTrue = 0;
    let eSpat = 0;
    let eFilt = 0;
    let eInterf = 0;
    let eAll = 0;
    let eArtif = 0;
    let eImageDist = 0;
    let eSourceDist = 0;
    for (let c = 0; c < nChan; c++) {
      const pOwn = ctx.project(own, spectra[c]);
      const sTrue = reference[jtrue][c];
      const est = estimated[jest][c];
      eTrue += energy(sTrue);
      eSpat += energyOfDiff(sTrue, pOwn); // e_spat = P_j - s_true
      eFilt += energy(pOwn); // s_true + e_spat
      eInterf += energyOfDiffPadded(pAll[c], pOwn); // e_interf = P_all - P_j
      eAll += energy(pAll[c]); // s_true + e_spat + e_interf
      eArtif += energyOfDiff(est, pAll[c]); // e_artif = est - P_all
      eSourceDist += energyOfDiff(est, pOwn); // e_interf + e_artif = est - P_j
      eImageDist += energyOfDiffUnpadded(est, sTrue); // e_spat + e_interf + e_artif = est - s_true
    }
    out.set(`${jest},${jtrue}`, {
      // _bss_source_crit: SDR against the filtered target; _bss_image_crit: against the true image.
      sdr: mode === 'sources' ? safeDb(eFilt, eSourceDist) : safeDb(eTrue, eImageDist),
      isr: safeDb(eTrue, eSpat),
      sir: safeDb(eFilt, eInterf),
      sar: safeDb(eAll, eArtif),
    });
  }
  return out;
}

function energyOfDiffUnpadded(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i] - b[i];
    s += v * v;
  }
  return s;
}

/** All permutations of 0..n-1 in `itertools.permutations` (lexicographic) order. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  const rec = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) {
      out.push(prefix);
      return;
    }
    rest.forEach((v, i) => rec([...prefix, v], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  rec([], Array.from({ length: n }, (_, i) => i));
  return out;
}

function evalImagesCore(
  reference: SourceImages,
  estimated: SourceImages,
  options: BssOptions,
  mode: 'sources' | 'images',
): BssImagesScores {
  const flen = options.filterLength ?? FILTER_LENGTH;
  const nSrc = estimated.length;
  const computePermutation = options.computePermutation ?? true;
  const pairs: Array<[number, number]> = [];
  for (let jest = 0; jest < nSrc; jest++) {
    for (let jtrue = 0; jtrue < nSrc; jtrue++) if (computePermutation || jest === jtrue) pairs.push([jest, jtrue]);
  }
  const crit = pairCriteria(reference, estimated, flen, pairs, mode);
  let popt = Array.from({ length: nSrc }, (_, i) => i);
  if (computePermutation) {
    // Best ordering in the mean-SIR sense; the first maximum wins, as np.argmax.
    let best = -Infinity;
    for (const perm of permutations(nSrc)) {
      const meanSir = perm.reduce((acc, jest, jtrue) => acc + (crit.get(`${jest},${jtrue}`) as PairCriteria).sir, 0) / nSrc;
      if (meanSir > best) {
        best = meanSir;
        popt = perm;
      }
    }
  }
  const pick = (k: keyof PairCriteria): number[] => popt.map((jest, jtrue) => (crit.get(`${jest},${jtrue}`) as PairCriteria)[k]);
  return { sdr: pick('sdr'), isr: pick('isr'), sir: pick('sir'), sar: pick('sar'), perm: popt };
}

const asImages = (sources: SourceSignals): SourceImages => sources.map((s) => [s]);

/** `mir_eval.separation.bss_eval_sources`. */
export function bssEvalSources(reference: SourceSignals, estimated: SourceSignals, options: BssOptions = {}): BssSourcesScores {
  const ref = asImages(reference);
  const est = asImages(estimated);
  validateImages(ref, est);
  if (ref.length === 0 || ref[0][0].length === 0) return { sdr: [], sir: [], sar: [], perm: [] };
  const { sdr, sir, sar, perm } = evalImagesCore(ref, est, options, 'sources');
  return { sdr, sir, sar, perm };
}

/** `mir_eval.separation.bss_eval_images`: adds ISR; every source has nb_channels signals. */
export function bssEvalImages(reference: SourceImages, estimated: SourceImages, options: BssOptions = {}): BssImagesScores {
  validateImages(reference, estimated);
  if (reference.length === 0 || reference[0][0].length === 0) return { sdr: [], isr: [], sir: [], sar: [], perm: [] };
  return evalImagesCore(reference, estimated, options, 'images');
}

/**
 * BSS-Eval SDR/SIR/SAR of one estimate against reference `targetIndex` of a set of references
 * (`bss_eval_sources` with `compute_permutation=False`, for that source alone). Useful when other
 * estimates are silent, which `bssEvalSources` rejects as mir_eval does. NaN for a silent estimate.
 */
export function bssEvalSource(
  reference: SourceSignals,
  estimate: ArrayLike<number>,
  targetIndex: number,
  filterLength = FILTER_LENGTH,
): { sdr: number; sir: number; sar: number } {
  const ref = asImages(reference);
  validateImages(ref, ref);
  if (!(targetIndex >= 0 && targetIndex < reference.length)) throw new RangeError(`targetIndex ${targetIndex} out of range`);
  if (estimate.length !== reference[0].length) {
    throw new EvalInputError(`reference and estimate lengths differ (${reference[0].length} vs ${estimate.length} samples).`);
  }
  if (isAllZero(estimate)) return { sdr: NaN, sir: NaN, sar: NaN };
  const est: SourceImages = reference.map((_, j) => [j === targetIndex ? estimate : reference[j]]);
  const c = pairCriteria(ref, est, filterLength, [[targetIndex, targetIndex]], 'sources').get(`${targetIndex},${targetIndex}`) as PairCriteria;
  return { sdr: c.sdr, sir: c.sir, sar: c.sar };
}

/** Number of full windows, as mir_eval: floor((n - window + hop) / hop). */
export function frameCount(nSamples: number, windowSamples: number, hopSamples: number): number {
  return Math.floor((nSamples - windowSamples + hopSamples) / hopSamples);
}

function framewiseCore(
  reference: SourceImages,
  estimated: SourceImages,
  options: FramewiseOptions,
  mode: 'sources' | 'images',
): BssImagesFramewise {
  const { windowSamples, hopSamples } = options;
  if (!(windowSamples > 0) || !(hopSamples > 0)) throw new EvalInputError('window and hop must be positive numbers of samples.');
  const nSrc = reference.length;
  const nSamples = reference[0][0].length;
  const nWin = frameCount(nSamples, windowSamples, hopSamples);
  const computePermutation = options.computePermutation ?? false;
  // Fewer than 2 windows: the whole-signal result (mir_eval's documented special case).
  if (nWin < 2) {
    const r = evalImagesCore(reference, estimated, { ...options, computePermutation }, mode);
    const col = (v: number[]): number[][] => v.map((x) => [x]);
    return { sdr: col(r.sdr), isr: col(r.isr), sir: col(r.sir), sar: col(r.sar), perm: col(r.perm) };
  }
  const mk = (): number[][] => Array.from({ length: nSrc }, () => new Array<number>(nWin).fill(NaN));
  const out: BssImagesFramewise = { sdr: mk(), isr: mk(), sir: mk(), sar: mk(), perm: mk() };
  for (let k = 0; k < nWin; k++) {
    const start = k * hopSamples;
    const end = start + windowSamples;
    if (anySourceSilent(reference, start, end) || anySourceSilent(estimated, start, end)) continue;
    const slice = (x: SourceImages): SourceImages =>
      x.map((chs) => chs.map((c) => Float64Array.from({ length: end - start }, (_, i) => c[start + i])));
    const r = evalImagesCore(slice(reference), slice(estimated), { ...options, computePermutation }, mode);
    for (let j = 0; j < nSrc; j++) {
      out.sdr[j][k] = r.sdr[j];
      out.isr[j][k] = r.isr[j];
      out.sir[j][k] = r.sir[j];
      out.sar[j][k] = r.sar[j];
      out.perm[j][k] = r.perm[j];
    }
  }
  return out;
}

/**
 * `mir_eval.separation.bss_eval_sources_framewise`: BSS-Eval on windows of `windowSamples`
 * every `hopSamples` (filters estimated per window), NaN where a source is silent in the window.
 * Permutations are off by default, as in mir_eval.
 */
export function bssEvalSourcesFramewise(reference: SourceSignals, estimated: SourceSignals, options: FramewiseOptions): BssSourcesFramewise {
  const ref = asImages(reference);
  const est = asImages(estimated);
  validateImages(ref, est);
  if (ref.length === 0 || ref[0][0].length === 0) return { sdr: [], sir: [], sar: [], perm: [] };
  const { sdr, sir, sar, perm } = framewiseCore(ref, est, options, 'sources');
  return { sdr, sir, sar, perm };
}

/** `mir_eval.separation.bss_eval_images_framewise`. */
export function bssEvalImagesFramewise(reference: SourceImages, estimated: SourceImages, options: FramewiseOptions): BssImagesFramewise {
  validateImages(reference, estimated);
  if (reference.length === 0 || reference[0][0].length === 0) return { sdr: [], isr: [], sir: [], sar: [], perm: [] };
  return framewiseCore(reference, estimated, options, 'images');
}

/** Median of the finite-or-infinite (non-NaN) values, NaN when there are none (`np.nanmedian`). */
export function nanMedian(values: readonly number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * SDR of one estimated signal against its reference alone: the `bss_eval_sources` SDR, which
 * depends only on the target reference (`s_true + e_spat` is the projection onto its delayed
 * copies; everything else is distortion). One 512x512 solve instead of the full system.
 */
export function bssSdr(reference: ArrayLike<number>, estimate: ArrayLike<number>, filterLength = FILTER_LENGTH): number {
  if (reference.length !== estimate.length) {
    throw new EvalInputError(`reference and estimate lengths differ (${reference.length} vs ${estimate.length} samples).`);
  }
  if (isAllZero(reference)) return NaN;
  const ctx = new ProjectionContext([reference], filterLength);
  const p = ctx.project(ctx.projector([0]), realFft(estimate, ctx.nFft));
  return safeDb(energy(p), energyOfDiff(estimate, p));
}

export interface MusevalOptions {
  /** Window and hop, seconds. Default 1 s and 1 s (museval's `eval_mus_track` defaults). */
  windowSec?: number;
  hopSec?: number;
  filterLength?: number;
}

/**
 * museval-style SDR of one stem: SDR on 1 s windows (1 s hop) of each channel, then the median
 * over windows and channels, skipping windows where the reference or the estimate is silent
 * (NaN). Uses the per-target `bssSdr` (the `bss_eval_sources` definition, filters re-estimated per
 * window as mir_eval's framewise function). museval v4 instead fits image filters on the whole
 * track; numbers are close but not identical, so report which one was used.
 *
 * @param reference [shape=(nb_channels, nb_samples)]
 * @param estimate  [shape=(nb_channels, nb_samples)]
 */
export function framewiseMedianSdr(
  reference: readonly ArrayLike<number>[],
  estimate: readonly ArrayLike<number>[],
  sampleRateHz: number,
  options: MusevalOptions = {},
): { medianSdr: number; framesSdr: number[][] } {
  const windowSamples = Math.round((options.windowSec ?? 1) * sampleRateHz);
  const hopSamples = Math.round((options.hopSec ?? 1) * sampleRateHz);
  if (reference.length !== estimate.length) {
    throw new EvalInputError(`reference has ${reference.length} channels, estimate ${estimate.length}.`);
  }
  const framesSdr = reference.map((refCh, c) => {
    const estCh = estimate[c];
    const n = Math.min(refCh.length, estCh.length);
    const nWin = Math.max(1, frameCount(n, windowSamples, hopSamples));
    const values: number[] = [];
    for (let k = 0; k < nWin; k++) {
      const start = k * hopSamples;
      const end = Math.min(n, start + windowSamples);
      const r = Float64Array.from({ length: end - start }, (_, i) => refCh[start + i]);
      const e = Float64Array.from({ length: end - start }, (_, i) => estCh[start + i]);
      values.push(isAllZero(r) || isAllZero(e) ? NaN : bssSdr(r, e, options.filterLength));
    }
    return values;
  });
  return { medianSdr: nanMedian(framesSdr.flat()), framesSdr };
}

/**
 * Scale-invariant SDR (Le Roux, Wisdom, Erdogan & Hershey, "SDR - half-baked or well done?",
 * ICASSP 2019): with zero-mean signals, `alpha = <est, ref> / |ref|^2`,
 * SI-SDR = 10 log10(|alpha ref|^2 / |alpha ref - est|^2). +Infinity for a perfect estimate, NaN for a
 * silent reference or estimate.
 */
export function siSdr(reference: ArrayLike<number>, estimate: ArrayLike<number>, zeroMean = true): number {
  const n = reference.length;
  if (estimate.length !== n) throw new EvalInputError(`reference and estimate lengths differ (${n} vs ${estimate.length} samples).`);
  let meanR = 0;
  let meanE = 0;
  if (zeroMean && n > 0) {
    for (let i = 0; i < n; i++) {
      meanR += reference[i];
      meanE += estimate[i];
    }
    meanR /= n;
    meanE /= n;
  }
  let dot = 0;
  let rr = 0;
  for (let i = 0; i < n; i++) {
    const r = reference[i] - meanR;
    dot += (estimate[i] - meanE) * r;
    rr += r * r;
  }
  if (rr === 0) return NaN;
  const alpha = dot / rr;
  // A silent estimate has no defined SI-SDR (0/0); report NaN rather than +Infinity.
  if (alpha === 0 && isAllZero(estimate)) return NaN;
  let target = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const t = alpha * (reference[i] - meanR);
    target += t * t;
    const e = t - (estimate[i] - meanE);
    noise += e * e;
  }
  return safeDb(target, noise);
}
