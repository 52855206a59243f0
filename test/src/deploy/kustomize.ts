import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { at } from '@loom/common';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** `kubectl kustomize DIR`, parsed. Throws with kubectl's stderr when rendering fails. */
export function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error)
    throw new Error(`kubectl not runnable (${r.error.message}); it ships kustomize and is needed for these tests`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseYamlDocs(r.stdout);
}

export function parseYamlDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`YAML: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/**
 * Render a kustomization written on the fly in a temporary directory; `refs` lists directories
 * (absolute) that the text names as {0}, {1}, ... and that are turned into the relative paths
 * kustomize insists on. `files` are extra files put next to it.
 */
export function kustomizeInline(text: string, refs: string[] = [], files: Record<string, string> = {}): K8sObject[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-kustomize-'));
  try {
    const body = refs.reduce((t, ref, i) => t.replaceAll(`{${i}}`, path.relative(dir, ref)), text);
    writeFileSync(path.join(dir, 'kustomization.yaml'), body);
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const byKind = (objs: K8sObject[], kind: string, name?: string): K8sObject[] =>
  objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

export function one(objs: K8sObject[], kind: string, name: string): K8sObject {
  const found = byKind(objs, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length}`);
  return at(found, 0);
}
