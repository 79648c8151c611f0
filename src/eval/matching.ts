/**
 * Maximum-cardinality bipartite matching, ported from `mir_eval.util._bipartite_match`
 * (mir_eval's adaptation of David Eppstein's Hopcroft-Karp, UC Irvine 2002;
 * https://github.com/craffel/mir_eval/blob/main/mir_eval/util.py).
 *
 * The port keeps Python's dict insertion order (JS `Map` has the same semantics) and the same
 * visiting order, so it returns the *same* maximum matching as mir_eval, not just one of the same
 * size. That matters: the average overlap ratio depends on which notes got paired.
 */

/** Left vertex -> its right neighbours, in insertion order (mir_eval's `G[est_i] = [ref_i, ...]`). */
export type BipartiteGraph = Map<number, number[]>;

/** Sentinel that marks a free left vertex in the first layer (mir_eval uses the `unmatched` list). */
const FREE = -1;

/**
 * Returns right vertex -> matched left vertex. Every vertex is matched at most once and the
 * number of pairs is maximal.
 */
export function bipartiteMatch(graph: BipartiteGraph): Map<number, number> {
  // Greedy initial matching (redundant, but faster than a full search).
  const matching = new Map<number, number>();
  for (const [u, vs] of graph) {
    for (const v of vs) {
      if (!matching.has(v)) {
        matching.set(v, u);
        break;
      }
    }
  }

  for (;;) {
    // Structure the residual graph into layers. pred[u]: neighbour in the previous layer
    // (FREE for free vertices of the first layer); preds[v]: left neighbours in the previous layer.
    const preds = new Map<number, number[]>();
    const unmatched: number[] = [];
    const pred = new Map<number, number>();
    for (const u of graph.keys()) pred.set(u, FREE);
    for (const u of matching.values()) pred.delete(u);
    let layer = [...pred.keys()];

    while (layer.length > 0 && unmatched.length === 0) {
      const newLayer = new Map<number, number[]>();
      for (const u of layer) {
        for (const v of graph.get(u) ?? []) {
          if (!preds.has(v)) {
            const list = newLayer.get(v);
            if (list) list.push(u);
            else newLayer.set(v, [u]);
          }
        }
      }
      layer = [];
      for (const [v, us] of newLayer) {
        preds.set(v, us);
        const matchedU = matching.get(v);
        if (matchedU !== undefined) {
          layer.push(matchedU);
          pred.set(matchedU, v);
        } else {
          unmatched.push(v);
        }
      }
    }

    // No alternating path left: the matching is maximum.
    if (unmatched.length === 0) return matching;

    // Search backwards through the layers for vertex-disjoint augmenting paths.
    const recurse = (v: number): boolean => {
      const us = preds.get(v);
      if (us === undefined) return false;
      preds.delete(v);
      for (const u of us) {
        const pu = pred.get(u);
        if (pu === undefined) continue;
        pred.delete(u);
        if (pu === FREE || recurse(pu)) {
          matching.set(v, u);
          return true;
        }
      }
      return false;
    };
    for (const v of unmatched) recurse(v);
  }
}

/**
 * Builds the graph the way mir_eval does from a hit matrix (`np.where` scans reference-major) and
 * returns the matching as `[refIndex, estIndex]` pairs sorted by reference index.
 *
 * @param hit `hit(refIndex, estIndex)` says whether the pair may be matched.
 */
export function matchFromHits(
  nRef: number,
  nEst: number,
  hit: (refIndex: number, estIndex: number) => boolean,
): Array<[number, number]> {
  const graph: BipartiteGraph = new Map();
  for (let i = 0; i < nRef; i++) {
    for (let j = 0; j < nEst; j++) {
      if (!hit(i, j)) continue;
      const list = graph.get(j);
      if (list) list.push(i);
      else graph.set(j, [i]);
    }
  }
  const pairs: Array<[number, number]> = [];
  for (const [ref, est] of bipartiteMatch(graph)) pairs.push([ref, est]);
  pairs.sort((a, b) => a[0] - b[0]);
  return pairs;
}
