import { open } from 'node:fs/promises';

/**
 * File type detection by magic bytes. File names and MIME headers lie (an upload is always
 * saved as `.pdf`); the first bytes do not.
 */

export const FILE_KINDS = ['pdf', 'png', 'jpeg', 'gif', 'webp', 'tiff', 'zip', 'unknown'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

const startsWith = (buf: Uint8Array, sig: readonly number[], offset = 0): boolean => {
  if (buf.length < offset + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (buf[offset + i] !== sig[i]) return false;
  return true;
};

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/**
 * Sniffs the type of a file from its first bytes (16 are enough).
 * `zip` covers DOCX, XLSX and PPTX (they are ZIP containers; tell them apart by their entries).
 * A PDF may have up to 1024 bytes of junk before `%PDF` (readers accept it), so the whole
 * given prefix is searched for it.
 */
export const sniffFileType = (buf: Uint8Array): FileKind => {
  if (startsWith(buf, ascii('%PDF-'))) return 'pdf';
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(buf, ascii('GIF87a')) || startsWith(buf, ascii('GIF89a'))) return 'gif';
  if (startsWith(buf, ascii('RIFF')) && startsWith(buf, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(buf, [0x49, 0x49, 0x2a, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2a])) {
    return 'tiff';
  }
  if (startsWith(buf, [0x50, 0x4b, 0x03, 0x04]) || startsWith(buf, [0x50, 0x4b, 0x05, 0x06])) {
    return 'zip';
  }
  const head = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, 1024)).toString(
    'latin1',
  );
  if (head.includes('%PDF-')) return 'pdf';
  return 'unknown';
};

/** Reads the first `bytes` of a file and sniffs its type. */
export const sniffFile = async (filePath: string, bytes = 1024): Promise<FileKind> => {
  const handle = await open(filePath, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return sniffFileType(buf.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
};
