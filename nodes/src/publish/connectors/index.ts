/** The connectors by platform; base URL overrides come from `ctx.env.platformBaseUrls` (operator config). */
import type { NodeEnvironment } from '@gridflow/runtime';
import { facebookConnector } from './facebook.js';
import { genericConnector } from './generic.js';
import { instagramConnector } from './instagram.js';
import { linkedinConnector } from './linkedin.js';
import { xConnector } from './x.js';
import type { Connector, ConnectorPlatform } from './types.js';

export const CONNECTORS: Record<ConnectorPlatform, Connector> = {
  linkedin: linkedinConnector,
  x: xConnector,
  facebook: facebookConnector,
  instagram: instagramConnector,
  generic: genericConnector,
};

/** The API base URL for a social platform and whether it is operator configuration (then private addresses are allowed). */
export function platformBaseUrl(
  env: NodeEnvironment,
  platform: Exclude<ConnectorPlatform, 'generic'>,
): { baseUrl: string; trusted: boolean } {
  const override = env.platformBaseUrls[platform];
  if (override) return { baseUrl: override.replace(/\/+$/, ''), trusted: true };
  return { baseUrl: CONNECTORS[platform].defaultBaseUrl, trusted: false };
}

export * from './types.js';
export { toLittleText, fromLittleText, LINKEDIN_VERSION } from './linkedin.js';
export { toRuntimeError } from './http.js';
