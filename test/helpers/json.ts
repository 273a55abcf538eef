/** Every non-blank line of a command's output, parsed as JSON (`--json` prints one object a line). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
