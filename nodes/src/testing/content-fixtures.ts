/** Seed data for content-node tests: a workspace with members of every role and a brand profile. */
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '@gridflow/db';

export interface SeededWorkspace {
  workspaceId: string;
  users: Record<'owner' | 'admin' | 'editor' | 'approver' | 'approver2' | 'viewer', string>;
  brandProfileId: string;
}

export async function seedWorkspace(
  db: PrismaClient,
  brand: Partial<{
    bannedTerms: string[];
    requiredTerms: string[];
    voiceTone: string;
    toneKeywords: string[];
    enforcementLevel: string;
    minComplianceScore: number;
    palette: object;
    fonts: object;
  }> = {},
): Promise<SeededWorkspace> {
  const tag = randomBytes(4).toString('hex');
  const ws = await db.workspace.create({ data: { name: `Test ${tag}`, slug: `test-${tag}` } });
  const roles = [
    ['owner', 'owner'],
    ['admin', 'admin'],
    ['editor', 'editor'],
    ['approver', 'approver'],
    ['approver2', 'approver'],
    ['viewer', 'viewer'],
  ] as const;
  const users = {} as SeededWorkspace['users'];
  for (const [key, role] of roles) {
    const user = await db.user.create({ data: { email: `${key}-${tag}@example.com`, name: key } });
    await db.membership.create({ data: { workspaceId: ws.id, userId: user.id, role } });
    users[key] = user.id;
  }
  const profile = await db.brandProfile.create({
    data: {
      workspaceId: ws.id,
      name: 'Acme Bakery',
      voiceTone: brand.voiceTone ?? 'Warm, practical, a little playful. Short sentences.',
      toneKeywords: brand.toneKeywords ?? ['warm', 'practical'],
      bannedTerms: brand.bannedTerms ?? ['guaranteed', 'cheap'],
      requiredTerms: brand.requiredTerms ?? ['Acme'],
      enforcementLevel: brand.enforcementLevel ?? 'strict',
      minComplianceScore: brand.minComplianceScore ?? 0.7,
      palette: (brand.palette ?? { primary: '#C2410C', secondary: '#FFF7ED' }) as object,
      fonts: (brand.fonts ?? { heading: 'Inter', body: 'Source Serif' }) as object,
    },
  });
  return { workspaceId: ws.id, users, brandProfileId: profile.id };
}
