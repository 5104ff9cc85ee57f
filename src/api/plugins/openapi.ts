/**
 * OpenAPI from the route schemas (`@fastify/swagger`), the UI at `/api/doc` served from
 * node_modules (`@fastify/swagger-ui`, no CDN), the spec at `/api/swagger.json`.
 * Must be registered before the routes so their schemas are collected.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../version.js';
import { globalPlugin } from './global-plugin.js';

export const openapiPlugin = globalPlugin('secretary-openapi', async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Secretary',
        version: VERSION,
        description: 'Durable jobs for documents and media. See docs/api.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Secretary-Api-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/doc', staticCSP: true });
  app.get('/api/swagger.json', { schema: { hide: true } }, async () => app.swagger());
});
