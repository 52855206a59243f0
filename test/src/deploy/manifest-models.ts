import type { K8sObject } from './kustomize.js';

/**
 * Where kubernetes-models (and its KEDA / prometheus-operator packages) keep the model of an
 * apiVersion: the module that exports one class per kind, each with an `I<Kind>` interface.
 */
export function modelModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'keda.sh') return `@kubernetes-models/keda/keda.sh/${version}`;
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`;
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/**
 * Validate an object against its kind's OpenAPI schema (types, enums, required fields) with the
 * model's own `validate()`. Returns an error message, or undefined when valid.
 */
export async function validateWithSchema(obj: K8sObject): Promise<string | undefined> {
  const mod = (await import(modelModule(obj.apiVersion))) as Record<string, ModelClass | undefined>;
  const Model = mod[obj.kind];
  if (!Model) return `no model for ${obj.apiVersion} ${obj.kind}`;
  try {
    new Model(obj).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * A TypeScript module that types every object as a literal of its kind's interface, so the compiler's
 * excess-property check names any field the kind does not have. Line N+2 holds object N.
 */
export function typedManifestSource(objs: K8sObject[]): string {
  const imports = new Map<string, string>();
  const lines = objs.map((o, i) => {
    const alias = `I_${o.apiVersion.replace(/[^A-Za-z0-9]/g, '_')}_${o.kind}`;
    imports.set(alias, `import type { I${o.kind} as ${alias} } from '${modelModule(o.apiVersion)}/${o.kind}';`);
    return `export const o${i}: ${alias} = ${JSON.stringify(o)};`;
  });
  // Imports last (ES imports are hoisted), so object i sits on line i + 2.
  return [`// ${objs.length} objects`, ...lines, ...imports.values()].join('\n');
}
