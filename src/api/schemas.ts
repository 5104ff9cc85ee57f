/** Request schemas shared by the route plugins (TypeBox → validation and OpenAPI). */
import Type from 'typebox';

export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size, default 50.' })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, description: 'The `next_cursor` of the previous page.' })),
};

export const WebhookSchema = Type.Object(
  {
    url: Type.String({ description: 'Callback URL (http or https).' }),
    token: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Sent as Bearer and X-Callback-Token; never returned.' })),
    headers: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
    jobId: Type.Optional(Type.String({ description: "The client's id for the job (becomes external_id)." })),
    include_markdown: Type.Optional(Type.Boolean()),
    include_metadata: Type.Optional(Type.Boolean()),
    delivery: Type.Optional(Type.Union([Type.Literal('at_most_once'), Type.Literal('at_least_once')])),
  },
  { additionalProperties: true },
);

/** Documented fields of one job; checked in detail by `parseJobInput` (so batch items get the same checks). */
export const JobBody = Type.Object(
  {
    job_type: Type.String({ description: 'A registered job type (see GET /api/health for the list).' }),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Validated by the job type; unknown keys are kept.' })),
    webhook: Type.Optional(Type.Union([WebhookSchema, Type.Null()])),
    user_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    batch_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    external_id: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Idempotency key (the client `jobId`).' })),
    jobId: Type.Optional(Type.String({ description: 'Alias of external_id.' })),
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    run_at: Type.Optional(Type.String({ description: 'Do not start before this ISO instant.' })),
  },
  { additionalProperties: true },
);

const BatchFields = {
  batch_name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  jobs: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 10_000, description: 'Job objects as for POST /api/jobs.' })),
  user_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  webhook: Type.Optional(Type.Union([WebhookSchema, Type.Null()])),
};

export const BatchBody = Type.Object(
  { ...BatchFields, batch: Type.Optional(Type.Object(BatchFields, { additionalProperties: true })) },
  { additionalProperties: true, description: 'Flat, or wrapped in `batch` (both forms of the seeds).' },
);
