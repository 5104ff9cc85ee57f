/**
 * Marks a plugin as non-encapsulated (what `fastify-plugin` does), so its hooks and
 * decorators apply to the whole instance. Infrastructure plugins use it; routes do not.
 */
import type { FastifyPluginAsync } from 'fastify';

export const globalPlugin = <O extends Record<string, unknown>>(name: string, fn: FastifyPluginAsync<O>): FastifyPluginAsync<O> => {
  const p = fn as FastifyPluginAsync<O> & Record<symbol, unknown>;
  p[Symbol.for('skip-override')] = true;
  p[Symbol.for('fastify.display-name')] = name;
  return p;
};
