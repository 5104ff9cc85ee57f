export { readImageInfo, toOcrPgm, makeThumbnail } from './image-info.js';
export type { ImageInfo } from './image-info.js';
