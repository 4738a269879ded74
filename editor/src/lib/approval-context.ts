/**
 * What an approval card shows beside the text: the ApprovalRequest payload holds only the content,
 * its id and (with auto-approve) a score, so the platform and the brand-guard result are read from
 * the run: the nearest upstream brand-guard step's output (`platform`, `score`, `passed`,
 * `violations`), else a `platform` in an upstream node's config.
 */
import type { Approval, Execution } from '../api/types.js';
import { upstreamNodes } from './graph-rules.js';

export interface ApprovalContext {
  platform: string | null;
  guard: Approval['guard'];
}

const obj = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

export function approvalContextFrom(execution: Pick<Execution, 'document' | 'steps'>, approvalNodeId: string): ApprovalContext {
  const doc = execution.document;
  if (!doc) return { platform: null, guard: null };
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  let platform: string | null = null;
  let guard: Approval['guard'] = null;
  for (const id of upstreamNodes(doc.edges, approvalNodeId)) {
    const node = byId.get(id);
    if (!node) continue;
    if (!guard && node.type === 'brand-guard') {
      const step = [...execution.steps].reverse().find((s) => s.nodeId === id && s.status === 'completed');
      const out = obj(step?.output);
      if (out && typeof out.score === 'number') {
        const violations = Array.isArray(out.violations) ? out.violations.map(obj).filter((v): v is Record<string, unknown> => !!v) : [];
        guard = {
          score: out.score,
          ...(typeof out.passed === 'boolean' ? { passed: out.passed } : {}),
          violations: violations.map((v) => ({
            message: String(v.message ?? v.rule ?? ''),
            ...(typeof v.rule === 'string' ? { rule: v.rule } : {}),
            ...(typeof v.severity === 'string' ? { severity: v.severity } : {}),
          })),
        };
        if (!platform && typeof out.platform === 'string') platform = out.platform;
      }
    }
    const cfgPlatform = obj(node.config)?.platform;
    if (!platform && typeof cfgPlatform === 'string' && !cfgPlatform.includes('{{')) platform = cfgPlatform;
    if (platform && guard) break;
  }
  return { platform, guard };
}
