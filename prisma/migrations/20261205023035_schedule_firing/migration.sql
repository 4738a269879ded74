-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "vector";

-- AlterTable
ALTER TABLE "schedules" ADD COLUMN     "firing_at" TIMESTAMPTZ(3),
ADD COLUMN     "firing_claimed_at" TIMESTAMPTZ(3);
