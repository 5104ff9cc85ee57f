/**
 * Which pdf method the session's attachments use: the configured one, else Mistral OCR with
 * previews when the `ocr` use case has a usable provider, else native text with previews; a
 * configured method the pdf type does not know stops the start.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, type DeepPartial } from '../../src/config/load-config.js';
import type { SecretaryConfig } from '../../src/config/defaults.js';
import { sessionJobType } from '../../src/handlers/session/session-handler.js';
import { attachmentsMethod } from '../../src/handlers/session/session-steps.js';
import { ModelGateway } from '../../src/processors/llm/index.js';
import { tempDir } from '../helpers/worker-fixtures.js';

const setup = (overrides: DeepPartial<SecretaryConfig>, env: Record<string, string> = {}) => {
  const t = tempDir('secretary-session-options-');
  const config = loadConfig({ home: t.dir, env, overrides });
  const models = new ModelGateway({ llm: config.llm, cacheDir: config.paths.cache_dir });
  t.cleanup();
  return { config, models };
};

describe('attachmentsMethod', () => {
  it('uses Mistral OCR with previews when the ocr use case is configured', () => {
    const { config, models } = setup({
      llm: { providers: { mistral: { base_url: 'http://127.0.0.1:9/mistral/v1' } } },
    });
    expect(attachmentsMethod(config, models)).toBe('preview_and_mistral_ocr');
  });

  it('falls back to native text with previews without a Mistral key', () => {
    const { config, models } = setup({});
    expect(models.isConfigured('ocr')).toBe(false);
    expect(attachmentsMethod(config, models)).toBe('preview_and_native');
  });

  it('takes the configured method, and refuses one the pdf type does not know at start', () => {
    const { config, models } = setup({
      processors: { session: { attachments_method: 'preview' } },
    });
    expect(attachmentsMethod(config, models)).toBe('preview');
    const bad = setup({ processors: { session: { attachments_method: 'docling' } } });
    expect(() => sessionJobType({ ...bad, runJobType: () => null })).toThrow(
      /processors\.session\.attachments_method: docling/,
    );
  });
});
