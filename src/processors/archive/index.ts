export { writeZip } from './zip-writer.js';
export type { ZipEntry } from './zip-writer.js';
