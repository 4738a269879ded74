/**
 * Output ports of a node from its type description and its current config. Node types whose ports
 * follow the config (the branch node's routes) describe it in `dynamicOutputs` (see
 * `GET /api/node-types`); this is the editor's copy of `outputsFromDescription` in
 * `@gridflow/nodes/schema` (the editor takes node-type metadata from the API, not from nodes/).
 */
import type { NodeTypeInfo, PortInfo } from '../api/types.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function outputsOf(t: Pick<NodeTypeInfo, 'outputs' | 'dynamicOutputs'>, config: unknown): PortInfo[] {
  const dyn = t.dynamicOutputs;
  if (!dyn || !dyn.field) return t.outputs;
  const list = isObject(config) && Array.isArray(config[dyn.field]) ? (config[dyn.field] as unknown[]) : [];
  const ports: PortInfo[] = [];
  const seen = new Set<string>(dyn.append);
  for (const el of list) {
    if (!isObject(el)) continue;
    const name = el[dyn.itemName];
    if (typeof name !== 'string' || name === '' || seen.has(name) || name === 'error') continue;
    seen.add(name);
    const label = el[dyn.itemLabel];
    ports.push({ name, label: typeof label === 'string' && label ? label : name });
  }
  for (const name of dyn.append) ports.push(t.outputs.find((p) => p.name === name) ?? { name, label: name });
  return ports;
}

/** A stable key of a port list (names and labels), to tell when a node's handles changed. */
export function portsKey(ports: ReadonlyArray<PortInfo>): string {
  return ports.map((p) => `${p.name}\u0001${p.label}`).join('\u0002');
}
