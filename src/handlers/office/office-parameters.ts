/** Parameters of the `office` and `office_via_pdf` job types (original §3.4, §5.7–5.8), validated at enqueue. */
import Type, { type TSchema } from 'typebox';
import type { ParameterProblem } from '../../worker/registry.js';
import { pdfMethodNames } from '../pdf/pdf-parameters.js';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

const inputFields = {
  file_path: nullable(Type.String({ maxLength: 4096 })),
  filename: nullable(Type.String({ maxLength: 4096 })),
  url: nullable(Type.String({ maxLength: 8192 })),
  upload_path: nullable(Type.String({ maxLength: 4096 })),
  original_filename: nullable(Type.String({ maxLength: 1024 })),
  use_cache: nullable(Type.Boolean()),
  force_refresh: nullable(Type.Boolean()),
  force_overwrite: nullable(Type.Boolean()),
  extra: nullable(Type.Object({}, { additionalProperties: true })),
};

export const officeParameters = Type.Object(
  {
    ...inputFields,
    include_images: nullable(Type.Boolean()),
    include_previews: nullable(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const officeViaPdfParameters = Type.Object(
  {
    ...inputFields,
    extraction_method: nullable(Type.Union(pdfMethodNames.map((m) => Type.Literal(m)))),
    page_start: nullable(Type.Integer({ minimum: 1 })),
    page_end: nullable(Type.Integer({ minimum: 1 })),
    include_images: nullable(Type.Boolean()),
    template: nullable(Type.String({ maxLength: 200_000 })),
    context: nullable(Type.Object({}, { additionalProperties: true })),
    target_language: nullable(Type.String({ maxLength: 20 })),
  },
  { additionalProperties: true },
);

export const validateOfficeParameters = (p: Record<string, unknown>): ParameterProblem[] => {
  const extra = (p.extra ?? {}) as Record<string, unknown>;
  const has = (k: string) => typeof (p[k] ?? extra[k]) === 'string' && String(p[k] ?? extra[k]).length > 0;
  const problems: ParameterProblem[] = [];
  if (!['file_path', 'filename', 'url', 'upload_path'].some(has)) {
    problems.push({ path: '', problem: 'needs one of file_path, filename or url' });
  }
  const url = p.url ?? extra.url;
  if (typeof url === 'string' && url && !/^https?:\/\//i.test(url)) problems.push({ path: '/url', problem: 'must be an http(s) URL' });
  if (typeof p.page_start === 'number' && typeof p.page_end === 'number' && p.page_end < p.page_start) {
    problems.push({ path: '/page_end', problem: 'must not be before page_start' });
  }
  return problems;
};
