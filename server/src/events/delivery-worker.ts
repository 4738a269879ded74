/**
 * Outbound event delivery. Claims due EventDelivery rows with `FOR UPDATE SKIP LOCKED` (any number
 * of server/worker processes), leases them, POSTs the JSON payload signed with the subscription's
 * secret, and records the outcome: delivered, or retried with exponential backoff (with jitter)
 * until `max_attempts`, then failed. Each attempt is also written to AuditLog
 * (`event_delivery.attempt`: status, response code, duration, error) so the history is visible.
 * Delivery is at least once: receivers de-duplicate with `X-Gridflow-Event-Id`.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Db } from '../db.js';
import type { Crypto, ServerOptions } from '../deps.js';
import { signedHeaders } from '../webhooks/signature.js';

const LEASE_S = 120;
const BATCH = 20;
const TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 3_600_000;

interface Claimed {
  id: string;
  workspace_id: string;
  subscription_id: string;
  event: string;
  payload: unknown;
  idempotency_key: string;
  attempts: number;
  max_attempts: number;
  url: string;
  secret_encrypted: string;
  is_active: boolean;
}

/** Loopback, private, link-local, CGNAT, unique-local and unspecified addresses. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (v === 6) {
    const l = ip.toLowerCase();
    if (l.startsWith('::ffff:')) return isPrivateAddress(l.slice(7));
    return l === '::1' || l === '::' || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('fe80');
  }
  return true;
}

export function backoffMs(attempt: number, baseMs: number): number {
  const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly crypto: Crypto,
    private readonly log: Logger,
    private readonly opts: Pick<ServerOptions, 'deliveryPollMs' | 'deliveryBaseBackoffMs' | 'deliveryAllowPrivate'>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const run = this.tick()
        .then((n) => n)
        .catch((err) => {
          this.log.warn({ err }, 'event delivery tick failed');
          return 0;
        });
      this.running = run.then(() => undefined);
      // A full batch means more may be due: go again at once.
      void run.then((n) => {
        this.running = null;
        this.schedule(n >= BATCH ? 0 : this.opts.deliveryPollMs);
      });
    }, ms);
    this.timer.unref?.();
  }

  /** One round: claim due deliveries and attempt each. Returns how many were attempted. */
  async tick(): Promise<number> {
    const claimed = await this.db.sql.transaction(async (tx) => {
      const r = await tx.query<Claimed>(
        `SELECT d.id, d.workspace_id, d.subscription_id, d.event, d.payload, d.idempotency_key, d.attempts, d.max_attempts,
                s.url, s.secret_encrypted, s.is_active
           FROM event_deliveries d JOIN event_subscriptions s ON s.id = d.subscription_id
          WHERE d.status = 'pending' AND d.next_attempt_at <= now()
          ORDER BY d.next_attempt_at
          LIMIT ${BATCH}
          FOR UPDATE OF d SKIP LOCKED`,
      );
      if (r.rows.length) {
        // Lease: another worker will not pick these up unless this one dies mid-attempt.
        await tx.query(`UPDATE event_deliveries SET next_attempt_at = now() + interval '${LEASE_S} seconds' WHERE id = ANY($1::text[])`, [r.rows.map((x) => x.id)]);
      }
      return r.rows;
    });
    await Promise.all(claimed.map((d) => this.attempt(d)));
    return claimed.length;
  }

  private async attempt(d: Claimed): Promise<void> {
    const attempt = d.attempts + 1;
    const started = Date.now();
    let responseCode: number | null = null;
    let responseBody: string | null = null;
    let error: string | null = null;
    if (!d.is_active) {
      await this.db.sql.query(`UPDATE event_deliveries SET status = 'failed', last_error = 'subscription disabled' WHERE id = $1`, [d.id]);
      return;
    }
    try {
      const body = typeof d.payload === 'string' ? d.payload : JSON.stringify(d.payload);
      await this.checkTarget(d.url);
      const secret = this.crypto.decrypt(d.secret_encrypted, `event_subscription:${d.subscription_id}`);
      const res = await fetch(d.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Gridflow-Webhooks/1',
          'X-Gridflow-Event': d.event,
          'X-Gridflow-Event-Id': d.idempotency_key,
          'X-Gridflow-Delivery': d.id,
          'X-Gridflow-Attempt': String(attempt),
          ...signedHeaders(secret, body),
        },
        body,
      });
      responseCode = res.status;
      responseBody = (await res.text()).slice(0, 2000);
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? `timed out after ${TIMEOUT_MS} ms` : (err as Error).message;
    }
    const durationMs = Date.now() - started;
    const ok = error === null;
    const giveUp = !ok && attempt >= d.max_attempts;
    const wait = ok || giveUp ? null : backoffMs(attempt, this.opts.deliveryBaseBackoffMs);
    await this.db.sql.transaction(async (tx) => {
      await tx.query(
        `UPDATE event_deliveries
            SET attempts = $2, status = $3, response_code = $4, response_body = $5, last_error = $6, backoff_ms = $7,
                next_attempt_at = CASE WHEN $7::int IS NULL THEN NULL ELSE now() + ($7::int * interval '1 millisecond') END,
                last_attempt_at = now(), delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END
          WHERE id = $1`,
        [d.id, attempt, ok ? 'delivered' : giveUp ? 'failed' : 'pending', responseCode, responseBody, error, wait],
      );
      await tx.query(
        `UPDATE event_subscriptions SET ${ok ? 'success_count = success_count + 1' : 'failure_count = failure_count + 1'}, last_triggered_at = now() WHERE id = $1`,
        [d.subscription_id],
      );
      await tx.query(
        `INSERT INTO audit_logs (id, workspace_id, actor_type, action, entity_type, entity_id, metadata)
         VALUES (gen_random_uuid()::text, $1, 'system', 'event_delivery.attempt', 'event_delivery', $2, $3::jsonb)`,
        [d.workspace_id, d.id, JSON.stringify({ attempt, status: ok ? 'delivered' : giveUp ? 'failed' : 'retrying', responseCode, durationMs, error, nextAttemptInMs: wait, event: d.event })],
      );
    });
    this.log.info({ deliveryId: d.id, event: d.event, attempt, responseCode, durationMs, error }, 'event delivery attempt');
  }

  private async checkTarget(url: string): Promise<void> {
    if (this.opts.deliveryAllowPrivate) return;
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    const addrs = isIP(host) ? [{ address: host }] : await lookup(host, { all: true });
    if (addrs.some((a) => isPrivateAddress(a.address))) throw new Error(`refused: ${host} resolves to a private address`);
  }
}
