-- The queue indexes keep only the rows still in flight. Runs and steps that are stored already
-- finished (a sync webhook's run is, by its first statement) never enter them, and finished ones
-- leave them, so they stay small however long the history grows. Every query that uses them asks
-- for an in-flight status (claims, reclaims, sweeps, deadlines, metrics), which implies the predicate.
-- Prisma cannot describe a partial index (its diff ignores them), so schema.prisma names them in a
-- comment instead of an @@index.
DROP INDEX "executions_status_idx";
CREATE INDEX "executions_status_idx" ON "executions"("status") WHERE "status" IN ('pending', 'running', 'waiting');

DROP INDEX "execution_steps_status_available_at_idx";
CREATE INDEX "execution_steps_status_available_at_idx" ON "execution_steps"("status", "available_at") WHERE "status" IN ('pending', 'running', 'waiting');
