export { extractOffice, DEFAULT_MAX_PREVIEW_PAGES, DEFAULT_MAX_SHEET_ROWS } from './extract-office.js';
export { convertToPdf, LIBREOFFICE_PACKAGES, missingSofficeError, sofficeLoad } from './soffice.js';
export { OFFICE_PREVIEW_SPEC } from './office-previews.js';
export { officeKindOf, openPackage } from './ooxml-package.js';
export { OFFICE_KINDS } from './types.js';
export type {
  ExtractOfficeOptions,
  OfficeKind,
  OfficeMarkdown,
  OfficeProgress,
  OfficeResult,
  OfficeTextContent,
  SofficeOptions,
} from './types.js';
