/** Reading the pieces of a synthesized template that the local cloud runs. */
import type { CfnTemplate } from '../infra/synth.js';
import { resolveIntrinsics, type LocalNames } from './intrinsics.js';

export interface TemplateResource {
  logicalId: string;
  type: string;
  properties: Record<string, unknown>;
}

export function resourcesOfType(template: CfnTemplate, type: string): TemplateResource[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([logicalId, r]) => ({ logicalId, type: r.Type, properties: r.Properties ?? {} }));
}

export function onlyResourceOfType(template: CfnTemplate, type: string): TemplateResource {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type} in the template, found ${found.length}`);
  return found[0];
}

/** The state machine's ASL definition, with every ARN and name resolved to local values. */
export function stateMachineDefinition(template: CfnTemplate, names: LocalNames, logicalId?: string): Record<string, unknown> {
  const sm = logicalId
    ? { logicalId, properties: template.Resources[logicalId]?.Properties ?? {} }
    : onlyResourceOfType(template, 'AWS::StepFunctions::StateMachine');
  const props = sm.properties;
  if (props.DefinitionString !== undefined) {
    const text = resolveIntrinsics(props.DefinitionString, names);
    let parsed = JSON.parse(String(text)) as Record<string, unknown>;
    const substitutions = props.DefinitionSubstitutions as Record<string, unknown> | undefined;
    if (substitutions) {
      const resolved = resolveIntrinsics(substitutions, names) as Record<string, string>;
      parsed = JSON.parse(String(text).replace(/\$\{([^}]+)\}/g, (m, k: string) => resolved[k] ?? m)) as Record<string, unknown>;
    }
    return parsed;
  }
  if (props.Definition !== undefined) return resolveIntrinsics(props.Definition, names) as Record<string, unknown>;
  throw new Error(`state machine ${sm.logicalId} has neither DefinitionString nor Definition`);
}

/** A function's environment variables as deployed (intrinsics resolved). */
export function functionEnvironment(template: CfnTemplate, logicalId: string, names: LocalNames): Record<string, string> {
  const props = template.Resources[logicalId]?.Properties ?? {};
  const env = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return resolveIntrinsics(env, names) as Record<string, string>;
}
