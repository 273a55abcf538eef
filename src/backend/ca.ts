/**
 * Trust roots for HTTPS backends. An agent given its own `ca` list uses only that list, so a
 * private CA (`--cacert`) is added to Node's bundled roots and to NODE_EXTRA_CA_CERTS (which Node
 * would otherwise have added itself), not put in their place.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import { CairnError } from '../errors.js';

/** The `ca` list for an agent that should also trust `extra`; undefined (Node's default) without. */
export function trustStore(extra: readonly (string | Uint8Array)[] | undefined): Array<string | Buffer> | undefined {
  if (extra === undefined || extra.length === 0) return undefined;
  return [...rootCertificates, ...extraCaFromNode(), ...extra.map((c) => (typeof c === 'string' ? c : Buffer.from(c)))];
}

function extraCaFromNode(): string[] {
  const file = process.env['NODE_EXTRA_CA_CERTS'];
  if (file === undefined || file === '') return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return []; // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS
  }
}

/** The PEM text of each `--cacert` file; an unreadable or non-PEM file is ERR_INVALID_ARGUMENT. */
export async function readCaCerts(files: readonly string[], cwd: string): Promise<string[]> {
  return Promise.all(
    files.map(async (f) => {
      let text: string;
      try {
        text = await readFile(resolve(cwd, f), 'utf8');
      } catch (e) {
        throw new CairnError('ERR_INVALID_ARGUMENT', `--cacert ${f}: the file cannot be read (${(e as { code?: string }).code ?? String(e)}); give the path of a PEM certificate file`, { data: { file: f }, cause: e });
      }
      if (!text.includes('-----BEGIN CERTIFICATE-----')) {
        throw new CairnError('ERR_INVALID_ARGUMENT', `--cacert ${f}: the file holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the CA certificate in PEM form`, { data: { file: f } });
      }
      return text;
    }),
  );
}
