/**
 * Webhook routes (`POST /api/jobs/:id/webhook/redeliver`). Owned by the webhooks work;
 * registered by `buildApp`. Placeholder until the webhook delivery lands.
 */
import type { FastifyInstance } from 'fastify';

export const webhookRoutes = async (_app: FastifyInstance): Promise<void> => {};
