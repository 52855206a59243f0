import type { Request } from './request.js';

/**
 * Applies the stop conditions that need no text to a request whose last output token was just
 * appended, marking it finished if one holds. Stop conditions (EOS, stop ids) win over length, so a
 * stop token on the last allowed position reports 'stop'. Stop strings are the service's (text).
 * Returns whether the request finished.
 */
export function checkStop(request: Request, maxModelLen: number): boolean {
  const sampling = request.sampling;
  const last = request.lastTokenId;
  if (request.numOutputTokens >= sampling.minTokens) {
    if (!sampling.ignoreEos && request.eosTokenIds.includes(last)) {
      request.markFinished('stop');
      return true;
    }
    if (sampling.stopTokenIds.includes(last)) {
      request.markFinished('stop', last);
      return true;
    }
  }
  if (request.numOutputTokens >= sampling.maxTokens || request.numTokens >= maxModelLen) {
    request.markFinished('length');
    return true;
  }
  return false;
}
