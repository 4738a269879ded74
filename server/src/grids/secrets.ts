/**
 * Secret config fields (marked `x-gridflow-widget: secret` in a node type's schema, e.g. the http
 * node's auth token) are encrypted when a grid is written, so documents, versions, exports and
 * audit entries only ever hold ciphertext. Runners decrypt with `ctx.decrypt`.
 */
import type { GridDocument, NodeRegistry } from '@gridflow/runtime';
import { describeNodeType } from '@gridflow/nodes/schema';
import type { Crypto } from '../deps.js';

const ENCRYPTED = /^gf1\.[A-Za-z0-9_-]+\./;
const cache = new WeakMap<NodeRegistry, Map<string, string[]>>();

function secretPaths(registry: NodeRegistry, type: string): string[] {
  let m = cache.get(registry);
  if (!m) cache.set(registry, (m = new Map()));
  let paths = m.get(type);
  if (!paths) {
    const def = registry.get(type);
    try {
      paths = def ? describeNodeType(def).secretFields : [];
    } catch {
      paths = [];
    }
    m.set(type, paths);
  }
  return paths;
}

function encryptAt(value: unknown, segments: string[], crypto: Crypto): unknown {
  if (segments.length === 0) {
    return typeof value === 'string' && value !== '' && !ENCRYPTED.test(value) && !/^\{\{[\s\S]*\}\}$/.test(value.trim()) ? crypto.encrypt(value) : value;
  }
  const [head, ...rest] = segments as [string, ...string[]];
  const isArray = head.endsWith('[]');
  const key = isArray ? head.slice(0, -2) : head;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  if (!(key in obj)) return value;
  const child = obj[key];
  const next = isArray ? (Array.isArray(child) ? child.map((c) => encryptAt(c, rest, crypto)) : child) : encryptAt(child, rest, crypto);
  return { ...obj, [key]: next };
}

/** Returns `doc` with every plaintext secret field encrypted (already encrypted values and `{{ }}` references are kept). */
export function encryptSecrets(doc: GridDocument, registry: NodeRegistry, crypto: Crypto): GridDocument {
  let changed = false;
  const nodes = doc.nodes.map((n) => {
    const paths = secretPaths(registry, n.type);
    if (!paths.length) return n;
    let config: unknown = n.config;
    for (const p of paths) config = encryptAt(config, p.split('.'), crypto);
    if (config === n.config) return n;
    changed = true;
    return { ...n, config: config as Record<string, unknown> };
  });
  return changed ? { ...doc, nodes } : doc;
}
