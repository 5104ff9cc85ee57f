/**
 * The session archive (original §8 step 8), written to disk (never held in memory or stored as
 * base64): the Markdown at its path relative to the sessions base dir
 * (`<event>/<lang>/<track>/<file>.md`), every gallery image at its relative path
 * (`<event>/assets/<session>/preview_NNN.jpg`), and a generated `README.md`. Written to a temp
 * name and renamed, so a reader never sees half an archive.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeZip, type ZipEntry } from '../archive/index.js';

export interface ArchiveReadmeInput {
  event: string;
  session: string;
  track: string;
  targetLanguage: string;
  template: string;
  url: string;
  videoUrl: string | null;
  attachmentsUrl: string | null;
  /** Relative paths inside the archive. */
  markdownFile: string;
  assetDir: string;
  imageCount: number;
  createdAt: Date;
}

export const archiveReadme = (r: ArchiveReadmeInput): string => `# ${r.session}

## Event
${r.event}

## Track
${r.track}

## Inhalt des Archivs

\`\`\`
${r.markdownFile}
${r.assetDir}/   (${r.imageCount} Folienbilder)
README.md
\`\`\`

Die Struktur entspricht dem Sessions-Verzeichnis: \`<Event>/<Sprache>/<Track>/<Datei>.md\` für die
Markdown-Dateien jeder Sprache, \`<Event>/assets/<Session>/\` für die Bilder, die alle Sprachen
gemeinsam nutzen. Das Archiv in ein Verzeichnis (z. B. einen Obsidian-Vault) entpacken; die
Bildverweise der Markdown-Datei (\`![[…]]\`) sind relativ zu diesem Verzeichnis.

## Quellen

- Session-URL: ${r.url}
- Video-URL: ${r.videoUrl ?? 'nicht vorhanden'}
- Anhänge-URL: ${r.attachmentsUrl ?? 'nicht vorhanden'}
- Verarbeitet am: ${r.createdAt.toISOString()}
- Sprache: ${r.targetLanguage}
- Template: ${r.template}

---
*Erzeugt von Secretary (Session-Pipeline)*
`;

export interface SessionArchiveInput {
  /** Absolute path of the archive to write. */
  archivePath: string;
  /** Absolute path of the Markdown file and its path inside the archive. */
  markdown: { filePath: string; name: string };
  /** Gallery images: absolute path and path inside the archive. */
  images: Array<{ filePath: string; name: string }>;
  readme: string;
  signal?: AbortSignal;
}

/** Writes the archive (temp name, then rename); returns its entry names. */
export const writeSessionArchive = async (a: SessionArchiveInput): Promise<string[]> => {
  await mkdir(dirname(a.archivePath), { recursive: true });
  const tmpId = randomUUID();
  const readmePath = join(dirname(a.archivePath), `.readme-${tmpId}.md`);
  const tmpZip = `${a.archivePath}.tmp-${tmpId}`;
  await writeFile(readmePath, a.readme, 'utf8');
  const entries: ZipEntry[] = [
    { name: a.markdown.name, filePath: a.markdown.filePath },
    ...a.images.map((i) => ({ name: i.name, filePath: i.filePath })),
    { name: 'README.md', filePath: readmePath },
  ];
  try {
    await writeZip(tmpZip, entries, a.signal);
    await rename(tmpZip, a.archivePath);
  } finally {
    await rm(readmePath, { force: true });
    await rm(tmpZip, { force: true });
  }
  return entries.map((e) => e.name);
};
