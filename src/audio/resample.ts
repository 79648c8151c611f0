/**
 * Band-limited sample-rate conversion: Kaiser-windowed sinc, evaluated as a polyphase filter bank
 * for the exact rational ratio to/from = L/M (e.g. 44100 -> 16000 is 160/441).
 *
 * Design (with f_low = the lower of the two rates):
 * - passband edge 0.45 f_low (90% of the lower Nyquist: 9.92 kHz for 22.05 kHz output),
 *   stopband edge 0.5 f_low (the lower Nyquist itself, so nothing above the new Nyquist aliases),
 *   -6 dB cutoff halfway between;
 * - Kaiser window with beta = 0.1102 (A - 8.7) for A = 100 dB stop-band attenuation; the window
 *   method's passband ripple equals the stop-band ripple (1e-5), i.e. about 100 dB passband SNR;
 * - length from Kaiser's formula N = (A - 7.95) / (14.36 df) + 1 = 129 taps at f_low, so 260 taps
 *   per output sample for 44.1 -> 22.05 kHz, 358 for 44.1 -> 16 kHz, 142 for 48 -> 44.1 kHz.
 * The filter is symmetric and centred (zero phase): output sample n sits exactly at input time
 * n * from / to, with no delay; the signal is taken as zero outside its ends.
 * Output length is ceil(length * to / from): every output instant inside the input's span.
 * When L is too large for a table of exact phases (odd rate pairs such as 44100 -> 44056), the
 * kernel is tabulated at 1024 phases per input sample and linearly interpolated between them
 * (interpolation error about -120 dB).
 * The polyphase loop runs in a small WebAssembly SIMD kernel (./kernel/resample.wat, f32x4 with
 * float32 accumulation: rounding error about -130 dB, far below the design's -100 dB), in blocks
 * so its memory stays a few MB; plain JavaScript is the fallback where SIMD is unavailable.
 *
 * Measured by bench/resample.ts (passband SNR, stop-band attenuation, speed).
 */
import type { AudioData } from '../types.js';
import { RESAMPLE_WASM_BASE64 } from './kernel/resample-wasm.js';

export interface ResampleDesign {
  /** Stop-band attenuation, dB. */
  attenuationDb: number;
  /** Passband edge as a fraction of the lower Nyquist frequency. */
  passbandFraction: number;
}

export const DEFAULT_RESAMPLE_DESIGN: ResampleDesign = { attenuationDb: 100, passbandFraction: 0.9 };

export interface ResampleOptions extends Partial<ResampleDesign> {
  /** Force the JavaScript loop instead of the WebAssembly SIMD kernel (tests, benchmarks). */
  engine?: 'wasm' | 'js';
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

interface Kernel {
  /** Half-width in input samples: h(d) = 0 for |d| >= halfWidth. */
  halfWidth: number;
  /** Continuous kernel, d in input samples. */
  h: (d: number) => number;
}

function designKernel(fromHz: number, toHz: number, design: ResampleDesign): Kernel {
  const lowHz = Math.min(fromHz, toHz);
  const passHz = (design.passbandFraction * lowHz) / 2;
  const stopHz = lowHz / 2;
  const cutoffHz = (passHz + stopHz) / 2;
  const a = design.attenuationDb;
  const beta = a > 50 ? 0.1102 * (a - 8.7) : a >= 21 ? 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) : 0;
  const tapsAtLowRate = (a - 7.95) / (14.36 * ((stopHz - passHz) / lowHz)) + 1;
  const halfWidth = ((tapsAtLowRate / 2) * fromHz) / lowHz;
  const fc = cutoffHz / fromHz; // cycles per input sample
  const i0Beta = besselI0(beta);
  const h = (d: number): number => {
    const r = d / halfWidth;
    if (r <= -1 || r >= 1) return 0;
    const x = 2 * fc * d;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    return 2 * fc * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta);
  };
  return { halfWidth, h };
}

/** Largest polyphase table (phases x taps) built exactly; beyond it the kernel is interpolated. */
const MAX_TABLE_ENTRIES = 1 << 21;
/** Phases tabulated for the interpolated path: kernel interpolation error about -120 dB. */
const INTERP_PHASES = 1024;

/** Resamples one channel. Identity (a copy) when the rates are equal. */
export function resample(x: Float32Array, fromHz: number, toHz: number, options?: ResampleOptions): Float32Array {
  const design: ResampleDesign = { ...DEFAULT_RESAMPLE_DESIGN, ...options };
  if (!(fromHz > 0 && toHz > 0 && Number.isInteger(fromHz) && Number.isInteger(toHz))) {
    throw new RangeError(`resample: rates must be positive integers (got ${fromHz} -> ${toHz})`);
  }
  if (fromHz === toHz) return x.slice();
  const g = gcd(fromHz, toHz);
  const L = toHz / g; // phases
  const M = fromHz / g; // input step per output sample, in 1/L units
  const outLength = Math.ceil((x.length * L) / M);
  const kernel = designKernel(fromHz, toHz, design);
  // K a multiple of 8 for the SIMD kernel; taps beyond the half-width are zero.
  const halfK = 4 * Math.ceil(kernel.halfWidth / 4);
  const K = 2 * halfK;
  // Zero padding so the inner loop needs no bounds tests: tap j of output n reads input
  // i - halfK + 1 + j, where i = floor(n M / L).
  const padFront = halfK - 1;
  const xp = new Float32Array(x.length + padFront + halfK + 1);
  xp.set(x, padFront);
  const out = new Float32Array(outLength);
  if (L * K <= MAX_TABLE_ENTRIES) {
    const coeffs = new Float32Array(L * K);
    for (let p = 0; p < L; p++) {
      for (let j = 0; j < K; j++) coeffs[p * K + j] = kernel.h(p / L + halfK - 1 - j);
    }
    const wasm = options?.engine === 'js' ? null : getWasmKernel();
    if (wasm) polyphaseWasm(wasm, xp, out, coeffs, K, L, M);
    else polyphase(xp, out, coeffs, K, L, M);
  } else {
    // Rows of the kernel at phases r / P, r = 0..P; outputs blend the two rows around their phase.
    const P = INTERP_PHASES;
    const table = new Float32Array((P + 1) * K);
    for (let r = 0; r <= P; r++) {
      for (let j = 0; j < K; j++) table[r * K + j] = kernel.h(r / P + halfK - 1 - j);
    }
    const wasm = options?.engine === 'js' ? null : getWasmKernel();
    if (wasm) interpolatedWasm(wasm, xp, out, table, K, P, fromHz, toHz);
    else interpolated(xp, out, table, K, P, fromHz, toHz);
  }
  return out;
}

function polyphase(xp: Float32Array, out: Float32Array, coeffs: Float32Array, K: number, L: number, M: number): void {
  const stepWhole = Math.floor(M / L);
  const stepFrac = M % L;
  let i = 0;
  let p = 0;
  const K4 = K - (K % 4);
  for (let n = 0; n < out.length; n++) {
    const row = p * K;
    // Four accumulators let the CPU overlap the multiply-adds.
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let j = 0;
    for (; j < K4; j += 4) {
      a0 += xp[i + j] * coeffs[row + j];
      a1 += xp[i + j + 1] * coeffs[row + j + 1];
      a2 += xp[i + j + 2] * coeffs[row + j + 2];
      a3 += xp[i + j + 3] * coeffs[row + j + 3];
    }
    for (; j < K; j++) a0 += xp[i + j] * coeffs[row + j];
    out[n] = a0 + a1 + a2 + a3;
    i += stepWhole;
    p += stepFrac;
    if (p >= L) {
      p -= L;
      i++;
    }
  }
}

/** The parts of the WebAssembly API used here (the project's lib settings do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface WasmKernel {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  polyphase: (xp: number, out: number, coeffs: number, K: number, L: number, stepWhole: number, stepFrac: number, p0: number, n: number) => void;
  interpolated: (xp: number, out: number, table: number, K: number, P: number, step: number, t0: number, n: number) => void;
}

let wasmKernel: WasmKernel | null | undefined;

function getWasmKernel(): WasmKernel | null {
  if (wasmKernel === undefined) {
    try {
      const bytes = Uint8Array.from(atob(RESAMPLE_WASM_BASE64), (c) => c.charCodeAt(0));
      const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const instance = new api.Instance(new api.Module(bytes));
      wasmKernel = instance.exports as unknown as WasmKernel;
    } catch {
      wasmKernel = null; // no WebAssembly SIMD here: the JavaScript loop does the same work
    }
  }
  return wasmKernel;
}

/** Which loop `resample` uses by default here: 'wasm' wherever WebAssembly SIMD exists (Node >= 16.4). */
export function resampleEngine(): 'wasm' | 'js' {
  return getWasmKernel() ? 'wasm' : 'js';
}

/** The kernel's memory as floats, grown to at least `bytes` first. */
function kernelHeap(k: WasmKernel, bytes: number): Float32Array {
  if (k.memory.buffer.byteLength < bytes) k.memory.grow(Math.ceil((bytes - k.memory.buffer.byteLength) / 65536));
  return new Float32Array(k.memory.buffer);
}

/** Outputs per block: bounds the kernel's memory (input span + outputs) to a few MB. */
const BLOCK_OUTPUTS = 1 << 16;

function polyphaseWasm(
  k: WasmKernel,
  xp: Float32Array,
  out: Float32Array,
  coeffs: Float32Array,
  K: number,
  L: number,
  M: number,
): void {
  const stepWhole = Math.floor(M / L);
  const stepFrac = M % L;
  const span = Math.ceil((BLOCK_OUTPUTS * M) / L) + K + 2;
  const coeffsAt = 0;
  const xAt = coeffs.byteLength;
  const outAt = xAt + 4 * span;
  const heap = kernelHeap(k, outAt + 4 * BLOCK_OUTPUTS);
  heap.set(coeffs, coeffsAt / 4);
  for (let n0 = 0; n0 < out.length; n0 += BLOCK_OUTPUTS) {
    const count = Math.min(BLOCK_OUTPUTS, out.length - n0);
    // Integer arithmetic stays exact: n0 * M < 2^53 for any real recording.
    const i0 = Math.floor((n0 * M) / L);
    const p0 = n0 * M - i0 * L;
    heap.set(xp.subarray(i0, Math.min(xp.length, i0 + span)), xAt / 4);
    k.polyphase(xAt, outAt, coeffsAt, K, L, stepWhole, stepFrac, p0, count);
    out.set(heap.subarray(outAt / 4, outAt / 4 + count), n0);
  }
}

function interpolated(
  xp: Float32Array,
  out: Float32Array,
  table: Float32Array,
  K: number,
  P: number,
  fromHz: number,
  toHz: number,
): void {
  for (let n = 0; n < out.length; n++) {
    const t = (n * fromHz) / toHz;
    const i = Math.floor(t);
    const pos = (t - i) * P;
    const r = Math.min(P - 1, Math.floor(pos));
    const w = pos - r;
    const row0 = r * K;
    const row1 = row0 + K;
    let a0 = 0;
    let a1 = 0;
    for (let j = 0; j < K; j++) {
      a0 += xp[i + j] * table[row0 + j];
      a1 += xp[i + j] * table[row1 + j];
    }
    out[n] = a0 + w * (a1 - a0);
  }
}

function interpolatedWasm(
  k: WasmKernel,
  xp: Float32Array,
  out: Float32Array,
  table: Float32Array,
  K: number,
  P: number,
  fromHz: number,
  toHz: number,
): void {
  const step = fromHz / toHz;
  const span = Math.ceil(BLOCK_OUTPUTS * step) + K + 2;
  const tableAt = 0;
  const xAt = table.byteLength;
  const outAt = xAt + 4 * span;
  const heap = kernelHeap(k, outAt + 4 * BLOCK_OUTPUTS);
  heap.set(table, tableAt / 4);
  for (let n0 = 0; n0 < out.length; n0 += BLOCK_OUTPUTS) {
    const count = Math.min(BLOCK_OUTPUTS, out.length - n0);
    const t = (n0 * fromHz) / toHz;
    const i0 = Math.floor(t);
    heap.set(xp.subarray(i0, Math.min(xp.length, i0 + span)), xAt / 4);
    k.interpolated(xAt, outAt, tableAt, K, P, step, t - i0, count);
    out.set(heap.subarray(outAt / 4, outAt / 4 + count), n0);
  }
}

/** Resamples every channel; returns the input itself when the rate already matches. */
export function resampleAudio(audio: AudioData, toHz: number, options?: ResampleOptions): AudioData {
  if (audio.sampleRateHz === toHz) return audio;
  return {
    sampleRateHz: toHz,
    channels: audio.channels.map((ch) => resample(ch, audio.sampleRateHz, toHz, options)),
  };
}
