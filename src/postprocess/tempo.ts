/**
 * Local tempo induction: a tempogram from onset inter-onset intervals, smoothed into a tempo curve
 * by a Viterbi search over beat-period bins.
 *
 * For each analysis window the autocorrelation of the onset envelope is computed sparsely, from
 * pairs of onset events (an IOI histogram, Dixon 2001), then turned into a beat-period salience with
 * a harmonic comb (a period also explains onsets at 2x and 3x it, as in Ellis 2007's "TPS2/TPS3"),
 * weighted by a log-Gaussian tempo prior. The prior and the comb together decide the metrical level;
 * the Viterbi transition cost (proportional to the squared log-ratio of neighbouring periods) keeps
 * the curve from jumping an octave between windows, which is what makes it robust to octave errors.
 *
 * References: S. Dixon, JNMR 30(1), 2001; D. P. W. Ellis, "Beat Tracking by Dynamic Programming",
 * JNMR 36(1), 2007; G. Peeters, "Template-based estimation of time-varying tempo", EURASIP 2007.
 */

export interface TempoCurveOptions {
  /** Fastest and slowest beat periods considered, seconds. */
  minPeriodSec: number;
  maxPeriodSec: number;
  /** Period bins per octave. */
  binsPerOctave: number;
  /** Centre of the log-Gaussian tempo prior (seconds per beat) and its width in octaves. */
  priorPeriodSec: number;
  priorWidthOctaves: number;
  /** Hop between analysis windows and the Gaussian half-width (sigma) of each window, seconds. */
  hopSec: number;
  windowSigmaSec: number;
  /** Viterbi cost per squared octave of period change between neighbouring windows. */
  changeCostPerOctave2: number;
  /** Weights of the lag autocorrelation at 1x, 2x and 3x the period (harmonic comb). */
  combWeights: [number, number, number];
}

export const DEFAULT_TEMPO_CURVE: TempoCurveOptions = {
  minPeriodSec: 0.25,
  maxPeriodSec: 1.6,
  binsPerOctave: 24,
  priorPeriodSec: 0.45,
  priorWidthOctaves: 0.9,
  hopSec: 0.5,
  windowSigmaSec: 3,
  changeCostPerOctave2: 40,
  combWeights: [1, 0, 0],
};

export interface OnsetEvent {
  timeSec: number;
  weight: number;
}

/** Local beat period: `periodSec[i]` holds around `timeSec[i]`. */
export interface TempoCurve {
  timeSec: Float64Array;
  periodSec: Float64Array;
}

/** Collapses an envelope into sparse events: its local maxima above a small floor. */
export function envelopePeaks(envelope: Float32Array, frameRateHz: number): OnsetEvent[] {
  let max = 0;
  for (const v of envelope) max = Math.max(max, v);
  const floor = 0.05 * max;
  const events: OnsetEvent[] = [];
  for (let i = 0; i < envelope.length; i++) {
    const v = envelope[i];
    if (v <= floor) continue;
    const left = i > 0 ? envelope[i - 1] : 0;
    const right = i + 1 < envelope.length ? envelope[i + 1] : 0;
    if (v >= left && v > right) events.push({ timeSec: i / frameRateHz, weight: v });
  }
  return events;
}

/**
 * Period salience per window, [shape=(nb_windows, nb_period_bins)], each row scaled to max 1,
 * before the prior is applied.
 */
export function tempogram(
  events: readonly OnsetEvent[],
  durationSec: number,
  options: TempoCurveOptions,
): { salience: Float64Array[]; periodsSec: Float64Array; windowTimesSec: Float64Array } {
  const { minPeriodSec, maxPeriodSec, binsPerOctave, hopSec, windowSigmaSec } = options;
  const nbBins = Math.floor(Math.log2(maxPeriodSec / minPeriodSec) * binsPerOctave) + 1;
  const periodsSec = new Float64Array(nbBins);
  for (let b = 0; b < nbBins; b++) periodsSec[b] = minPeriodSec * 2 ** (b / binsPerOctave);
  const nbWindows = Math.max(1, Math.ceil(durationSec / hopSec) + 1);
  const windowTimesSec = new Float64Array(nbWindows);
  for (let w = 0; w < nbWindows; w++) windowTimesSec[w] = w * hopSec;

  // Lag histogram per window at 10 ms lag resolution, up to 3 periods of the slowest tempo.
  const lagResSec = 0.01;
  const maxLagSec = 3 * maxPeriodSec;
  const nbLags = Math.ceil(maxLagSec / lagResSec) + 2;
  const lagHist: Float64Array[] = [];
  for (let w = 0; w < nbWindows; w++) lagHist.push(new Float64Array(nbLags));
  const reachWindows = Math.ceil((2.5 * windowSigmaSec) / hopSec);
  for (let i = 0; i < events.length; i++) {
    const a = events[i];
    for (let j = i + 1; j < events.length; j++) {
      const b = events[j];
      const lagSec = b.timeSec - a.timeSec;
      if (lagSec > maxLagSec) break;
      if (lagSec < 0.5 * minPeriodSec) continue;
      const mid = 0.5 * (a.timeSec + b.timeSec);
      const product = a.weight * b.weight;
      const lagPos = lagSec / lagResSec;
      const l0 = Math.floor(lagPos);
      const frac = lagPos - l0;
      const wc = Math.round(mid / hopSec);
      for (let w = Math.max(0, wc - reachWindows); w <= Math.min(nbWindows - 1, wc + reachWindows); w++) {
        const g = product * Math.exp(-0.5 * ((mid - windowTimesSec[w]) / windowSigmaSec) ** 2);
        const row = lagHist[w];
        row[l0] += g * (1 - frac);
        row[l0 + 1] += g * frac;
      }
    }
  }

  const salience: Float64Array[] = [];
  for (let w = 0; w < nbWindows; w++) {
    const row = smoothLags(lagHist[w]);
    const s = new Float64Array(nbBins);
    let max = 0;
    for (let b = 0; b < nbBins; b++) {
      const p = periodsSec[b];
      // Harmonic comb: a beat period also explains its second and third multiples.
      const [c1, c2, c3] = options.combWeights;
      let v = c1 * lagValue(row, p / lagResSec) + c2 * lagValue(row, (2 * p) / lagResSec);
      v += c3 * lagValue(row, (3 * p) / lagResSec);
      s[b] = v;
      max = Math.max(max, v);
    }
    if (max > 0) for (let b = 0; b < nbBins; b++) s[b] /= max;
    salience.push(s);
  }
  return { salience, periodsSec, windowTimesSec };
}

/** Smooths a lag histogram with a +-3 % relative-width kernel (tempo jitter of performances). */
function smoothLags(row: Float64Array): Float64Array {
  const out = new Float64Array(row.length);
  for (let l = 1; l < row.length; l++) {
    const v = row[l];
    if (v === 0) continue;
    const sigma = Math.max(1, 0.03 * l);
    const radius = Math.ceil(2 * sigma);
    for (let k = Math.max(1, l - radius); k <= Math.min(row.length - 1, l + radius); k++) {
      out[k] += v * Math.exp(-0.5 * ((k - l) / sigma) ** 2);
    }
  }
  return out;
}

function lagValue(row: Float64Array, lagPos: number): number {
  const l0 = Math.floor(lagPos);
  if (l0 + 1 >= row.length) return 0;
  const frac = lagPos - l0;
  return row[l0] * (1 - frac) + row[l0 + 1] * frac;
}

/**
 * Viterbi: the state path (one state per step) maximising the summed observation log-likelihoods
 * minus the costs of the transitions between consecutive steps. Ties go to the lowest state.
 */
export function viterbiPath(
  nbSteps: number,
  nbStates: number,
  logObs: (step: number, state: number) => number,
  transitionCost: (from: number, to: number) => number,
): Int32Array {
  const path = new Int32Array(nbSteps);
  if (nbSteps === 0 || nbStates === 0) return path;
  let score = new Float64Array(nbStates);
  for (let k = 0; k < nbStates; k++) score[k] = logObs(0, k);
  const back: Int32Array[] = [new Int32Array(nbStates)];
  for (let w = 1; w < nbSteps; w++) {
    const next = new Float64Array(nbStates);
    const bp = new Int32Array(nbStates);
    for (let k = 0; k < nbStates; k++) {
      let best = -Infinity;
      let arg = k;
      for (let c = 0; c < nbStates; c++) {
        const v = score[c] - transitionCost(c, k);
        if (v > best) {
          best = v;
          arg = c;
        }
      }
      next[k] = best + logObs(w, k);
      bp[k] = arg;
    }
    back.push(bp);
    score = next;
  }
  let k = 0;
  for (let c = 1; c < nbStates; c++) if (score[c] > score[k]) k = c;
  for (let w = nbSteps - 1; w >= 0; w--) {
    path[w] = k;
    k = back[w][k];
  }
  return path;
}

/** Log-Gaussian prior over periods (natural-log weight). */
export function logTempoPrior(periodSec: number, options: TempoCurveOptions): number {
  const octaves = Math.log2(periodSec / options.priorPeriodSec);
  return -0.5 * (octaves / options.priorWidthOctaves) ** 2;
}

/** The smoothed tempo curve over the whole piece (Viterbi over period bins). */
export function estimateTempoCurve(
  events: readonly OnsetEvent[],
  durationSec: number,
  options: Partial<TempoCurveOptions> = {},
): TempoCurve {
  const opts = { ...DEFAULT_TEMPO_CURVE, ...options };
  const { salience, periodsSec, windowTimesSec } = tempogram(events, durationSec, opts);
  const nbBins = periodsSec.length;
  const nbWindows = salience.length;
  const prior = new Float64Array(nbBins);
  for (let b = 0; b < nbBins; b++) prior[b] = logTempoPrior(periodsSec[b], opts);
  // Observation log-likelihood: log of the salience (floored), plus the prior.
  const obs = (w: number, b: number): number => Math.log(1e-3 + salience[w][b]) + prior[b];
  const stepCost = new Float64Array(nbBins);
  for (let d = 0; d < nbBins; d++) stepCost[d] = opts.changeCostPerOctave2 * (d / opts.binsPerOctave) ** 2;

  const path = viterbiPath(nbWindows, nbBins, obs, (c, b) => stepCost[Math.abs(c - b)]);
  const periodSec = Float64Array.from(path, (b) => periodsSec[b]);
  return { timeSec: windowTimesSec, periodSec };
}

/** Period at `timeSec` by linear interpolation of the curve. */
export function periodAt(curve: TempoCurve, timeSec: number): number {
  const n = curve.timeSec.length;
  if (n === 1 || timeSec <= curve.timeSec[0]) return curve.periodSec[0];
  if (timeSec >= curve.timeSec[n - 1]) return curve.periodSec[n - 1];
  const hop = curve.timeSec[1] - curve.timeSec[0];
  const i = Math.min(n - 2, Math.floor((timeSec - curve.timeSec[0]) / hop));
  const frac = (timeSec - curve.timeSec[i]) / hop;
  return curve.periodSec[i] * (1 - frac) + curve.periodSec[i + 1] * frac;
}
