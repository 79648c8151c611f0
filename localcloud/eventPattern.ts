/**
 * An EventBridge event-pattern matcher for the operators stemscribe's rule uses and their close
 * relatives: exact values, prefix, suffix (both also with equals-ignore-case), equals-ignore-case,
 * wildcard, anything-but, numeric, exists, and $or. Semantics follow the EventBridge user guide
 * ("Content filtering in Amazon EventBridge event patterns"): fields AND together, the values in
 * one array OR together, an array in the event matches if any element matches.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Matcher = Json;

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class EventPatternError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'EventPatternError';
  }
}

/** `*` matches any run of characters (including `/`); `\*` is a literal star. */
function wildcardToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && pattern[i + 1] === '*') {
      source += '\\*';
      i++;
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function affix(kind: 'prefix' | 'suffix', spec: Json, value: Json): boolean {
  if (typeof value !== 'string') return false;
  if (typeof spec === 'string') return kind === 'prefix' ? value.startsWith(spec) : value.endsWith(spec);
  if (isObject(spec) && typeof spec['equals-ignore-case'] === 'string') {
    const a = value.toLowerCase();
    const b = spec['equals-ignore-case'].toLowerCase();
    return kind === 'prefix' ? a.startsWith(b) : a.endsWith(b);
  }
  throw new EventPatternError(`${kind} needs a string or {"equals-ignore-case": string}`);
}

function numeric(spec: Json, value: Json): boolean {
  if (typeof value !== 'number' || !Array.isArray(spec)) return false;
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const op = spec[i];
    const bound = spec[i + 1];
    if (typeof bound !== 'number') throw new EventPatternError('numeric bounds must be numbers');
    const ok =
      op === '=' ? value === bound
      : op === '<' ? value < bound
      : op === '<=' ? value <= bound
      : op === '>' ? value > bound
      : op === '>=' ? value >= bound
      : (() => {
          throw new EventPatternError(`unknown numeric operator ${String(op)}`);
        })();
    if (!ok) return false;
  }
  return true;
}

/** One matcher (an element of a pattern's value array) against one scalar event value. */
function matchOne(matcher: Matcher, value: Json): boolean {
  if (!isObject(matcher)) return matcher === value;
  const [op, ...extra] = Object.keys(matcher);
  if (extra.length > 0) throw new EventPatternError(`one operator per matcher, got ${Object.keys(matcher).join(', ')}`);
  const spec = matcher[op];
  switch (op) {
    case 'prefix':
    case 'suffix':
      return affix(op, spec, value);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof spec === 'string' && value.toLowerCase() === spec.toLowerCase();
    case 'wildcard':
      if (typeof spec !== 'string') throw new EventPatternError('wildcard needs a string');
      return typeof value === 'string' && wildcardToRegExp(spec).test(value);
    case 'numeric':
      return numeric(spec, value);
    case 'anything-but': {
      if (Array.isArray(spec)) return !spec.some((s) => s === value);
      if (isObject(spec)) return !matchOne(spec, value);
      return spec !== value;
    }
    default:
      throw new EventPatternError(`unsupported operator ${op}`);
  }
}

/** A pattern's value array against the event's field (absent = undefined). */
function matchField(matchers: Json[], value: Json | undefined): boolean {
  const exists = matchers.find((m) => isObject(m) && 'exists' in m) as Record<string, Json> | undefined;
  if (exists) {
    const present = value !== undefined && !(isObject(value) && Object.keys(value).length === 0);
    return exists.exists === present;
  }
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => matchers.some((m) => matchOne(m, v)));
}

/** True when `event` matches `pattern` (both plain JSON). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new EventPatternError('an event pattern is a JSON object');
  const ev = isObject(event) ? event : {};
  for (const [field, spec] of Object.entries(pattern)) {
    if (field === '$or') {
      if (!Array.isArray(spec)) throw new EventPatternError('$or needs an array of patterns');
      if (!spec.some((alt) => matchesEventPattern(alt, ev))) return false;
      continue;
    }
    const value = ev[field];
    if (Array.isArray(spec)) {
      if (!matchField(spec, value)) return false;
    } else if (isObject(spec)) {
      if (!isObject(value)) return false;
      if (!matchesEventPattern(spec, value)) return false;
    } else {
      throw new EventPatternError(`pattern field ${field} must be an array or an object`);
    }
  }
  return true;
}
