/** Longest accepted access token, in characters (8 KiB). Longer ones are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;
