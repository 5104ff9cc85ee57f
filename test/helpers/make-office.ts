/**
 * Office documents built by hand for tests and benchmarks: each DOCX, XLSX and PPTX is an
 * OOXML ZIP assembled here from its parts with `fflate` (no writer library, nothing copied
 * from ../shared/fixtures). The parts are the minimal set Word, Excel, PowerPoint and
 * LibreOffice open: content types, package and part relationships, styles/numbering (DOCX),
 * workbook + shared strings (XLSX), master, layout and theme (PPTX).
 */
import { strToU8, zipSync } from 'fflate';
import sharp from 'sharp';

type Parts = Record<string, string | Uint8Array>;

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const NS_R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const NS_PKG_R = 'http://schemas.openxmlformats.org/package/2006/relationships';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const NS_A = 'http://schemas.openxmlformats.org/drawingml/2006/main';
const NS_P = 'http://schemas.openxmlformats.org/presentationml/2006/main';

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const zipParts = (parts: Parts): Uint8Array =>
  zipSync(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, typeof v === 'string' ? strToU8(v) : v])), { level: 6 });

const rels = (items: Array<{ id: string; type: string; target: string }>): string =>
  `${XML}<Relationships xmlns="${NS_PKG_R}">${items
    .map((r) => `<Relationship Id="${r.id}" Type="${r.type.startsWith('http') ? r.type : `${REL}/${r.type}`}" Target="${esc(r.target)}"/>`)
    .join('')}</Relationships>`;

const contentTypes = (defaults: Record<string, string>, overrides: Record<string, string>): string =>
  `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
  `<Default Extension="xml" ContentType="application/xml"/>` +
  Object.entries(defaults)
    .map(([e, t]) => `<Default Extension="${e}" ContentType="${t}"/>`)
    .join('') +
  Object.entries(overrides)
    .map(([p, t]) => `<Override PartName="${p}" ContentType="${t}"/>`)
    .join('') +
  `</Types>`;

const IMAGE_TYPES = { png: 'image/png', jpeg: 'image/jpeg' };

/** A small solid-colour PNG (real pixels, decodable by any reader). */
export const solidPng = (width: number, height: number, rgb: [number, number, number] = [200, 40, 40]): Promise<Uint8Array> =>
  sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer()
    .then((b) => new Uint8Array(b));

// ---------------------------------------------------------------- DOCX

/** Body blocks of a DOCX (`word/document.xml` fragments). */
export const docx = {
  heading: (level: 1 | 2 | 3, text: string): string =>
    `<w:p><w:pPr><w:pStyle w:val="Heading${level}"/></w:pPr><w:r><w:t xml:space="preserve">${esc(text)}</w:t></w:r></w:p>`,
  para: (text: string, opts: { bold?: boolean; italic?: boolean } = {}): string =>
    `<w:p><w:r>${opts.bold || opts.italic ? `<w:rPr>${opts.bold ? '<w:b/>' : ''}${opts.italic ? '<w:i/>' : ''}</w:rPr>` : ''}<w:t xml:space="preserve">${esc(text)}</w:t></w:r></w:p>`,
  /** `numId` 1 = bullets, 2 = numbered; `level` 0-based. */
  item: (text: string, numId: 1 | 2, level = 0): string =>
    `<w:p><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="${level}"/><w:numId w:val="${numId}"/></w:numPr></w:pPr><w:r><w:t xml:space="preserve">${esc(text)}</w:t></w:r></w:p>`,
  table: (rows: string[][]): string =>
    `<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>${rows
      .map((r) => `<w:tr>${r.map((c) => `<w:tc><w:p><w:r><w:t xml:space="preserve">${esc(c)}</w:t></w:r></w:p></w:tc>`).join('')}</w:tr>`)
      .join('')}</w:tbl>`,
  /** An inline picture of relationship `rId` (see `makeDocx({images})`), 2 × 1 inch. */
  image: (rId: string, name: string, id: number): string =>
    `<w:p><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="1828800" cy="914400"/><wp:docPr id="${id}" name="${esc(name)}" descr="${esc(name)}"/>` +
    `<a:graphic xmlns:a="${NS_A}"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">` +
    `<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="${id}" name="${esc(name)}"/><pic:cNvPicPr/></pic:nvPicPr>` +
    `<pic:blipFill><a:blip r:embed="${rId}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>` +
    `<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1828800" cy="914400"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>` +
    `</a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>`,
  pageBreak: (): string => `<w:p><w:r><w:br w:type="page"/></w:r></w:p>`,
};

const DOCX_STYLES =
  `${XML}<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
  `<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>` +
  [1, 2, 3]
    .map(
      (n) =>
        `<w:style w:type="paragraph" w:styleId="Heading${n}"><w:name w:val="heading ${n}"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="${n - 1}"/></w:pPr><w:rPr><w:b/><w:sz w:val="${36 - n * 4}"/></w:rPr></w:style>`,
    )
    .join('') +
  `<w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/><w:basedOn w:val="Normal"/></w:style>` +
  `</w:styles>`;

const numLevels = (fmt: 'bullet' | 'decimal'): string =>
  [0, 1, 2]
    .map(
      (l) =>
        `<w:lvl w:ilvl="${l}"><w:start w:val="1"/><w:numFmt w:val="${fmt}"/><w:lvlText w:val="${fmt === 'bullet' ? '•' : `%${l + 1}.`}"/><w:lvlJc w:val="left"/><w:pPr><w:ind w:left="${720 * (l + 1)}" w:hanging="360"/></w:pPr></w:lvl>`,
    )
    .join('');

const DOCX_NUMBERING =
  `${XML}<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
  `<w:abstractNum w:abstractNumId="0">${numLevels('bullet')}</w:abstractNum>` +
  `<w:abstractNum w:abstractNumId="1">${numLevels('decimal')}</w:abstractNum>` +
  `<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>` +
  `</w:numbering>`;

/** A DOCX whose body is `blocks`; `images[i]` is relationship `rIdImg<i+1>` (`word/media/<name>`). */
export const makeDocx = (blocks: string[], opts: { images?: Array<{ name: string; bytes: Uint8Array }>; title?: string } = {}): Uint8Array => {
  const images = opts.images ?? [];
  const body =
    `${XML}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="${NS_R}" ` +
    `xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:a="${NS_A}">` +
    `<w:body>${blocks.join('')}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>`;
  const parts: Parts = {
    '[Content_Types].xml': contentTypes(IMAGE_TYPES, {
      '/word/document.xml': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
      '/word/styles.xml': 'application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml',
      '/word/numbering.xml': 'application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml',
      '/docProps/core.xml': 'application/vnd.openxmlformats-package.core-properties+xml',
    }),
    '_rels/.rels': rels([
      { id: 'rId1', type: 'officeDocument', target: 'word/document.xml' },
      { id: 'rId2', type: 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties', target: 'docProps/core.xml' },
    ]),
    'docProps/core.xml':
      `${XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
      `<dc:title>${esc(opts.title ?? '')}</dc:title><dc:creator>Secretary tests</dc:creator></cp:coreProperties>`,
    'word/document.xml': body,
    'word/styles.xml': DOCX_STYLES,
    'word/numbering.xml': DOCX_NUMBERING,
    'word/_rels/document.xml.rels': rels([
      { id: 'rIdStyles', type: 'styles', target: 'styles.xml' },
      { id: 'rIdNumbering', type: 'numbering', target: 'numbering.xml' },
      ...images.map((im, i) => ({ id: `rIdImg${i + 1}`, type: 'image', target: `media/${im.name}` })),
    ]),
  };
  for (const im of images) parts[`word/media/${im.name}`] = im.bytes;
  return zipParts(parts);
};

// ---------------------------------------------------------------- XLSX

export type Cell = string | number | boolean | null;

const colName = (i: number): string => {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
};

/** An XLSX with one worksheet per entry; strings go to the shared-strings table as Excel writes them. */
export const makeXlsx = (sheets: Array<{ name: string; rows: Cell[][] }>): Uint8Array => {
  const shared: string[] = [];
  const index = new Map<string, number>();
  const sst = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = shared.length;
      shared.push(s);
      index.set(s, i);
    }
    return i;
  };
  const parts: Parts = {};
  sheets.forEach((sheet, si) => {
    const rows = sheet.rows
      .map((row, ri) => {
        const cells = row
          .map((v, ci) => {
            const ref = `${colName(ci)}${ri + 1}`;
            if (v === null) return '';
            if (typeof v === 'number') return `<c r="${ref}"><v>${v}</v></c>`;
            if (typeof v === 'boolean') return `<c r="${ref}" t="b"><v>${v ? 1 : 0}</v></c>`;
            return `<c r="${ref}" t="s"><v>${sst(v)}</v></c>`;
          })
          .join('');
        return `<row r="${ri + 1}">${cells}</row>`;
      })
      .join('');
    parts[`xl/worksheets/sheet${si + 1}.xml`] =
      `${XML}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${NS_R}"><sheetData>${rows}</sheetData></worksheet>`;
  });
  parts['xl/sharedStrings.xml'] =
    `${XML}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${shared.length}" uniqueCount="${shared.length}">` +
    shared.map((s) => `<si><t xml:space="preserve">${esc(s)}</t></si>`).join('') +
    `</sst>`;
  parts['xl/workbook.xml'] =
    `${XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${NS_R}"><sheets>` +
    sheets.map((s, i) => `<sheet name="${esc(s.name)}" sheetId="${i + 1}" r:id="rIdSheet${i + 1}"/>`).join('') +
    `</sheets></workbook>`;
  parts['xl/styles.xml'] =
    `${XML}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>` +
    `<fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>` +
    `<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>`;
  parts['xl/_rels/workbook.xml.rels'] = rels([
    ...sheets.map((_, i) => ({ id: `rIdSheet${i + 1}`, type: 'worksheet', target: `worksheets/sheet${i + 1}.xml` })),
    { id: 'rIdShared', type: 'sharedStrings', target: 'sharedStrings.xml' },
    { id: 'rIdStyles', type: 'styles', target: 'styles.xml' },
  ]);
  parts['_rels/.rels'] = rels([{ id: 'rId1', type: 'officeDocument', target: 'xl/workbook.xml' }]);
  parts['[Content_Types].xml'] = contentTypes(
    {},
    {
      '/xl/workbook.xml': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
      '/xl/sharedStrings.xml': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml',
      '/xl/styles.xml': 'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml',
      ...Object.fromEntries(sheets.map((_, i) => [`/xl/worksheets/sheet${i + 1}.xml`, 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml'])),
    },
  );
  return zipParts(parts);
};

/** `rows` × `cols` of mixed text and numbers with a header row (benchmarks). */
export const bigSheetRows = (rows: number, cols = 8): Cell[][] => {
  const out: Cell[][] = [Array.from({ length: cols }, (_, c) => `Spalte ${c + 1}`)];
  for (let r = 1; r <= rows; r++) {
    out.push(Array.from({ length: cols }, (_, c) => (c % 2 === 0 ? `Zeile ${r} Wert ${c} – Größe` : r * 1000 + c + 0.5)));
  }
  return out;
};

// ---------------------------------------------------------------- PPTX

export interface SlideSpec {
  title: string;
  /** Body bullets with 0-based levels. */
  bullets?: Array<{ text: string; level?: number }>;
  table?: string[][];
  image?: { name: string; bytes: Uint8Array; descr?: string };
  notes?: string;
}

const EMU = 914400;

const spTitle = (text: string): string =>
  `<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title 1"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr>` +
  `<p:spPr><a:xfrm><a:off x="${EMU / 2}" y="${EMU / 4}"/><a:ext cx="${9 * EMU}" cy="${EMU}"/></a:xfrm></p:spPr>` +
  `<p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="de-DE"/><a:t>${esc(text)}</a:t></a:r></a:p></p:txBody></p:sp>`;

const spBody = (bullets: Array<{ text: string; level?: number }>): string =>
  `<p:sp><p:nvSpPr><p:cNvPr id="3" name="Content 2"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph idx="1"/></p:nvPr></p:nvSpPr>` +
  `<p:spPr><a:xfrm><a:off x="${EMU / 2}" y="${1.5 * EMU}"/><a:ext cx="${5 * EMU}" cy="${4 * EMU}"/></a:xfrm></p:spPr><p:txBody><a:bodyPr/><a:lstStyle/>` +
  bullets
    .map((b) => `<a:p>${b.level ? `<a:pPr lvl="${b.level}"/>` : ''}<a:r><a:rPr lang="de-DE"/><a:t>${esc(b.text)}</a:t></a:r></a:p>`)
    .join('') +
  `</p:txBody></p:sp>`;

const tableFrame = (rows: string[][]): string =>
  `<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="4" name="Table 3"/><p:cNvGraphicFramePr><a:graphicFrameLocks noGrp="1"/></p:cNvGraphicFramePr><p:nvPr/></p:nvGraphicFramePr>` +
  `<p:xfrm><a:off x="${EMU / 2}" y="${4 * EMU}"/><a:ext cx="${6 * EMU}" cy="${rows.length * 370840}"/></p:xfrm>` +
  `<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/table"><a:tbl><a:tblPr firstRow="1"/><a:tblGrid>` +
  (rows[0] ?? []).map(() => `<a:gridCol w="${2 * EMU}"/>`).join('') +
  `</a:tblGrid>` +
  rows
    .map(
      (r) =>
        `<a:tr h="370840">${r.map((c) => `<a:tc><a:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="de-DE"/><a:t>${esc(c)}</a:t></a:r></a:p></a:txBody><a:tcPr/></a:tc>`).join('')}</a:tr>`,
    )
    .join('') +
  `</a:tbl></a:graphicData></a:graphic></p:graphicFrame>`;

const picture = (descr: string): string =>
  `<p:pic><p:nvPicPr><p:cNvPr id="5" name="Picture 4" descr="${esc(descr)}"/><p:cNvPicPr/><p:nvPr/></p:nvPicPr>` +
  `<p:blipFill><a:blip r:embed="rIdImage"/><a:stretch><a:fillRect/></a:stretch></p:blipFill>` +
  `<p:spPr><a:xfrm><a:off x="${6 * EMU}" y="${1.5 * EMU}"/><a:ext cx="${3 * EMU}" cy="${2 * EMU}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr></p:pic>`;

const spTree = (inner: string): string =>
  `<p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>${inner}</p:spTree></p:cSld>`;

const THEME =
  `${XML}<a:theme xmlns:a="${NS_A}" name="Test"><a:themeElements><a:clrScheme name="Test">` +
  ['dk1', 'lt1', 'dk2', 'lt2', 'accent1', 'accent2', 'accent3', 'accent4', 'accent5', 'accent6', 'hlink', 'folHlink']
    .map((n, i) => `<a:${n}><a:srgbClr val="${i % 2 ? 'FFFFFF' : '1F2937'}"/></a:${n}>`)
    .join('') +
  `</a:clrScheme><a:fontScheme name="Test"><a:majorFont><a:latin typeface="Liberation Sans"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>` +
  `<a:minorFont><a:latin typeface="Liberation Sans"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont></a:fontScheme>` +
  `<a:fmtScheme name="Test"><a:fillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:fillStyleLst>` +
  `<a:lnStyleLst><a:ln w="9525"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="9525"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="9525"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln></a:lnStyleLst>` +
  `<a:effectStyleLst><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle></a:effectStyleLst>` +
  `<a:bgFillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:bgFillStyleLst>` +
  `</a:fmtScheme></a:themeElements></a:theme>`;

/** A 16:9 PPTX with one slide per entry (title, bullets, table, picture, speaker notes). */
export const makePptx = (slides: SlideSpec[]): Uint8Array => {
  const ns = `xmlns:a="${NS_A}" xmlns:r="${NS_R}" xmlns:p="${NS_P}"`;
  const parts: Parts = {};
  const overrides: Record<string, string> = {
    '/ppt/presentation.xml': 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
    '/ppt/slideMasters/slideMaster1.xml': 'application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml',
    '/ppt/slideLayouts/slideLayout1.xml': 'application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml',
    '/ppt/theme/theme1.xml': 'application/vnd.openxmlformats-officedocument.theme+xml',
  };
  slides.forEach((s, i) => {
    const n = i + 1;
    const inner = spTitle(s.title) + (s.bullets?.length ? spBody(s.bullets) : '') + (s.table ? tableFrame(s.table) : '') + (s.image ? picture(s.image.descr ?? s.image.name) : '');
    parts[`ppt/slides/slide${n}.xml`] = `${XML}<p:sld ${ns}>${spTree(inner)}<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`;
    overrides[`/ppt/slides/slide${n}.xml`] = 'application/vnd.openxmlformats-officedocument.presentationml.slide+xml';
    const slideRels = [{ id: 'rIdLayout', type: 'slideLayout', target: '../slideLayouts/slideLayout1.xml' }];
    if (s.image) {
      const name = `slide${n}_${s.image.name}`;
      parts[`ppt/media/${name}`] = s.image.bytes;
      slideRels.push({ id: 'rIdImage', type: 'image', target: `../media/${name}` });
    }
    if (s.notes) {
      slideRels.push({ id: 'rIdNotes', type: 'notesSlide', target: `../notesSlides/notesSlide${n}.xml` });
      parts[`ppt/notesSlides/notesSlide${n}.xml`] =
        `${XML}<p:notes ${ns}>${spTree(
          `<p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image"/><p:cNvSpPr/><p:nvPr><p:ph type="sldImg"/></p:nvPr></p:nvSpPr><p:spPr/></p:sp>` +
            `<p:sp><p:nvSpPr><p:cNvPr id="3" name="Notes"/><p:cNvSpPr/><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>${esc(s.notes)}</a:t></a:r></a:p></p:txBody></p:sp>` +
            `<p:sp><p:nvSpPr><p:cNvPr id="4" name="Slide Number"/><p:cNvSpPr/><p:nvPr><p:ph type="sldNum" idx="5"/></p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>${n}</a:t></a:r></a:p></p:txBody></p:sp>`,
        )}</p:notes>`;
      parts[`ppt/notesSlides/_rels/notesSlide${n}.xml.rels`] = rels([{ id: 'rIdSlide', type: 'slide', target: `../slides/slide${n}.xml` }]);
      overrides[`/ppt/notesSlides/notesSlide${n}.xml`] = 'application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml';
    }
    parts[`ppt/slides/_rels/slide${n}.xml.rels`] = rels(slideRels);
  });
  parts['ppt/presentation.xml'] =
    `${XML}<p:presentation ${ns}><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rIdMaster"/></p:sldMasterIdLst><p:sldIdLst>` +
    slides.map((_, i) => `<p:sldId id="${256 + i}" r:id="rIdSlide${i + 1}"/>`).join('') +
    `</p:sldIdLst><p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`;
  parts['ppt/_rels/presentation.xml.rels'] = rels([
    { id: 'rIdMaster', type: 'slideMaster', target: 'slideMasters/slideMaster1.xml' },
    { id: 'rIdTheme', type: 'theme', target: 'theme/theme1.xml' },
    ...slides.map((_, i) => ({ id: `rIdSlide${i + 1}`, type: 'slide', target: `slides/slide${i + 1}.xml` })),
  ]);
  parts['ppt/slideMasters/slideMaster1.xml'] =
    `${XML}<p:sldMaster ${ns}>${spTree('')}<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>` +
    `<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rIdLayout1"/></p:sldLayoutIdLst></p:sldMaster>`;
  parts['ppt/slideMasters/_rels/slideMaster1.xml.rels'] = rels([
    { id: 'rIdLayout1', type: 'slideLayout', target: '../slideLayouts/slideLayout1.xml' },
    { id: 'rIdTheme', type: 'theme', target: '../theme/theme1.xml' },
  ]);
  parts['ppt/slideLayouts/slideLayout1.xml'] = `${XML}<p:sldLayout ${ns} type="obj">${spTree('')}<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>`;
  parts['ppt/slideLayouts/_rels/slideLayout1.xml.rels'] = rels([{ id: 'rIdMaster', type: 'slideMaster', target: '../slideMasters/slideMaster1.xml' }]);
  parts['ppt/theme/theme1.xml'] = THEME;
  parts['_rels/.rels'] = rels([{ id: 'rId1', type: 'officeDocument', target: 'ppt/presentation.xml' }]);
  parts['[Content_Types].xml'] = contentTypes(IMAGE_TYPES, overrides);
  return zipParts(parts);
};
