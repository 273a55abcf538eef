/** The ASCII bytes the pattern matchers of this module look for. */
export const SLASH = 0x2f;
export const STAR = 0x2a;
export const QUESTION = 0x3f;
export const OPEN = 0x5b;
export const CLOSE = 0x5d;
export const BACKSLASH = 0x5c;
export const BANG = 0x21;
export const CARET = 0x5e;
export const DASH = 0x2d;
export const COLON = 0x3a;
export const SPACE = 0x20;
