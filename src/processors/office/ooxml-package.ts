/**
 * An OOXML package (DOCX, XLSX, PPTX are ZIP files of XML parts): reading its entries with a
 * cap on what they unpack to (a ZIP bomb fails as CORRUPT_FILE instead of filling memory),
 * telling the three formats apart by their main part, and following part relationships.
 */
import { strFromU8, unzipSync } from 'fflate';
import { posix } from 'node:path';
import { SecretaryError } from '../../core/errors.js';
import { attr, children, parseXml } from './xml.js';
import type { OfficeKind } from './types.js';

export interface OoxmlPackage {
  /** Entry names (all of them, also those not unpacked). */
  names: string[];
  has(name: string): boolean;
  /** The bytes of an entry; undefined when absent. */
  bytes(name: string): Uint8Array | undefined;
  /** The entry as UTF-8 text; undefined when absent. */
  text(name: string): string | undefined;
}

/** Default cap on the unpacked size of all entries together. */
export const DEFAULT_MAX_UNPACKED = 1024 * 1024 * 1024;

/**
 * Opens a package from its bytes; only entries `want(name)` accepts are unpacked, but the
 * declared sizes of all entries count against `maxUnpackedBytes`.
 */
export const openPackage = (
  zip: Uint8Array,
  opts: { want?: (name: string) => boolean; maxUnpackedBytes?: number } = {},
): OoxmlPackage => {
  const names: string[] = [];
  const cap = opts.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED;
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        names.push(f.name);
        // every entry counts (also those not unpacked here: another reader may unpack them)
        declared += f.originalSize;
        if (declared > cap) {
          throw new SecretaryError('CORRUPT_FILE', `the document unpacks to more than ${Math.round(cap / 1048576)} MB`, { reason: 'unpacked_too_large' });
        }
        return !opts.want || opts.want(f.name);
      },
    });
  } catch (err) {
    if (err instanceof SecretaryError) throw err;
    throw new SecretaryError('CORRUPT_FILE', `the document is not a readable ZIP/OOXML file: ${(err as Error).message}`);
  }
  return {
    names,
    has: (name) => names.includes(name),
    bytes: (name) => files[name],
    text: (name) => (files[name] ? strFromU8(files[name]) : undefined),
  };
};

/** Which of the three formats the package is, by its main part; null for anything else. */
export const officeKindOf = (names: readonly string[]): OfficeKind | null => {
  if (names.includes('word/document.xml')) return 'docx';
  if (names.includes('xl/workbook.xml')) return 'xlsx';
  if (names.includes('ppt/presentation.xml')) return 'pptx';
  return null;
};

export interface Relationship {
  id: string;
  /** Last segment of the relationship type URI (`image`, `slide`, `notesSlide`, …). */
  type: string;
  /** Entry name the target resolves to (package-absolute, no leading `/`); null for external targets. */
  target: string | null;
  /** The target of an external relationship (a hyperlink's URL); null for internal ones. */
  external: string | null;
}

/** `ppt/slides/slide1.xml` → `ppt/slides/_rels/slide1.xml.rels`. */
export const relsPathOf = (part: string): string => posix.join(posix.dirname(part), '_rels', `${posix.basename(part)}.rels`);

/** The relationships of `part`, keyed by id (empty when it has none). */
export const relationships = (pkg: OoxmlPackage, part: string): Map<string, Relationship> => {
  const out = new Map<string, Relationship>();
  const xml = pkg.text(relsPathOf(part));
  if (!xml) return out;
  const base = posix.dirname(part);
  for (const r of children(parseXml(xml), 'Relationship')) {
    const id = attr(r, 'Id');
    const rawTarget = attr(r, 'Target') ?? '';
    if (!id) continue;
    const external = attr(r, 'TargetMode') === 'External';
    const resolved = rawTarget.startsWith('/') ? rawTarget.slice(1) : posix.normalize(posix.join(base, rawTarget));
    out.set(id, {
      id,
      type: (attr(r, 'Type') ?? '').split('/').pop() ?? '',
      // a target that climbs out of the package is ignored
      target: external || resolved.startsWith('..') ? null : resolved,
      external: external ? rawTarget : null,
    });
  }
  return out;
};
