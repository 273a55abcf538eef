/**
 * Decoded values in error messages. A value read from storage can be anything JSON can hold — a
 * string of a hundred megabytes, arrays nested fifty thousand deep — so a message never embeds it
 * with JSON.stringify (which recurses, and throws RangeError on deep nesting): `describeValue`
 * looks only at the top of the value and keeps what it shows short.
 */

/**
 * A short text for `v` in an error message: a string quoted and cut to `max` characters, a number,
 * boolean or null as JSON writes it, `missing` for undefined, and only the kind and size of an
 * array or object. Never recursive; never longer than about `max` + 40 characters.
 */
export function describeValue(v: unknown, max = 60): string {
  switch (typeof v) {
    case 'string':
      return v.length > max ? `${JSON.stringify(v.slice(0, max))}… (${v.length} characters)` : JSON.stringify(v);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
      return 'missing';
    default:
      if (v === null) return 'null';
      if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
      return typeof v === 'object' ? 'an object' : typeof v;
  }
}
