/**
 * Small helpers shared by every level: hex, sizes. Level 0: imports only errors.
 */
export { toHex, fromHex } from './hex.js';
export { parseSize, formatSize } from './size.js';
export { workerScriptUrl } from './worker-script.js';
