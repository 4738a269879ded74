/**
 * Types of the two small packages (Express's own dependencies) that the webhook path uses to read
 * a request exactly as Express did; neither ships its own types.
 */
declare module 'bytes' {
  const bytes: {
    /** '2kb' → 2048, '1mb' → 1048576, a number → itself; null when it cannot be read. */
    parse(value: string | number): number | null;
  };
  export default bytes;
}

declare module 'parseurl' {
  import type { Url } from 'node:url';
  /** `req.url` split as Express routes it (a fast path for the usual "/path?query", else url.parse); cached on `req`. */
  function parseurl(req: { url?: string | undefined }): Url | undefined;
  export default parseurl;
}
