/**
 * Resolves the CloudFormation intrinsics a CDK template uses (Ref, Fn::GetAtt, Fn::Join,
 * Fn::Sub, Fn::Select, Fn::Split) against local physical names, so the local cloud can run the
 * template's own values: the state machine definition, function environments, rule patterns.
 */
import type { CfnTemplate } from '../infra/synth.js';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

export interface LocalNames {
  /** Ref of a resource: bucket name, function name, ARN (state machine, Batch), ... */
  ref(logicalId: string): string;
  getAtt(logicalId: string, attribute: string): string;
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Stemscribe',
  'AWS::NoValue': '',
};

/** Local physical names, derived from logical IDs so they are stable across runs. */
export function localNames(template: CfnTemplate): LocalNames {
  const typeOf = (id: string): string => {
    const resource = template.Resources[id];
    if (!resource) throw new Error(`template has no resource ${id}`);
    return resource.Type;
  };
  const arn = (service: string, resource: string): string => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;
  const ref = (id: string): string => {
    switch (typeOf(id)) {
      case 'AWS::S3::Bucket':
        // Bucket names: lower case, 3-63 characters.
        return `local-${id.toLowerCase()}`.slice(0, 63);
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${id}`);
      case 'AWS::Batch::JobQueue':
        return arn('batch', `job-queue/${id}`);
      case 'AWS::Batch::JobDefinition':
        return arn('batch', `job-definition/${id}:1`);
      case 'AWS::SQS::Queue':
        return `http://sqs.local/${LOCAL_ACCOUNT}/${id}`;
      default:
        return id;
    }
  };
  const getAtt = (id: string, attribute: string): string => {
    const type = typeOf(id);
    if (attribute === 'Arn' || attribute.endsWith('Arn')) {
      switch (type) {
        case 'AWS::Lambda::Function':
          return arn('lambda', `function:${id}`);
        case 'AWS::S3::Bucket':
          return `arn:aws:s3:::${ref(id)}`;
        case 'AWS::IAM::Role':
          return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`;
        case 'AWS::SQS::Queue':
          return arn('sqs', id);
        case 'AWS::Batch::JobQueue':
        case 'AWS::Batch::JobDefinition':
        case 'AWS::StepFunctions::StateMachine':
          return ref(id);
        default:
          return arn('local', `${type}/${id}`);
      }
    }
    if (type === 'AWS::StepFunctions::StateMachine' && attribute === 'Name') return id;
    return `${id}.${attribute}`;
  };
  return { ref, getAtt };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deeply resolves intrinsics in `value`. Unknown intrinsics throw rather than pass through. */
export function resolveIntrinsics(value: unknown, names: LocalNames): unknown {
  const resolve = (v: unknown): unknown => resolveIntrinsics(v, names);
  if (Array.isArray(value)) return value.map(resolve);
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [fn] = keys;
    const arg = value[fn];
    switch (fn) {
      case 'Ref': {
        const id = String(arg);
        return id in PSEUDO ? PSEUDO[id] : names.ref(id);
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return names.getAtt(id, attribute);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolve(parts) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolve(list) as unknown[])[Number(resolve(index))];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return String(resolve(text)).split(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name in vars) return String(resolve(vars[name]));
          if (name in PSEUDO) return PSEUDO[name];
          const [id, attribute] = name.split('.');
          return attribute ? names.getAtt(id, attribute) : names.ref(id);
        });
      }
      default:
        if (fn.startsWith('Fn::') || fn === 'Condition') throw new Error(`unsupported intrinsic ${fn}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = resolve(value[k]);
  return out;
}

/** Logical IDs a (not yet resolved) template value refers to, via Ref or Fn::GetAtt. */
export function referencedLogicalIds(value: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      if (typeof v.Ref === 'string' && !v.Ref.startsWith('AWS::')) found.add(v.Ref);
      if (Array.isArray(v['Fn::GetAtt'])) found.add(String(v['Fn::GetAtt'][0]));
      Object.values(v).forEach(walk);
    }
  };
  walk(value);
  return found;
}
