/**
 * Checks the options every verifier shares (programmer misuse throws at construction):
 * `issuer` must be an http(s) URL, `audience` one non-empty string or a non-empty list of them.
 * Returns the audiences as a list.
 */
export function checkIssuerAndAudience(options: { readonly issuer: string; readonly audience: string | readonly string[] }): readonly string[] {
  try {
    const url = new URL(options.issuer);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError();
  } catch {
    throw new TypeError('issuer must be an http(s) URL');
  }
  const audiences: readonly unknown[] = typeof options.audience === 'string' ? [options.audience] : Array.isArray(options.audience) ? options.audience : [];
  if (audiences.length === 0 || audiences.some((aud) => typeof aud !== 'string' || aud.length === 0)) {
    throw new TypeError('audience must be a non-empty string or a non-empty list of them');
  }
  return audiences as readonly string[];
}
