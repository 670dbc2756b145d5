/**
 * The engine the local-mode tests compare the integration with: the fp32 tiny-bert fixture, loaded
 * once per file, and closed at its end together with the engines the integration loaded itself.
 */
import { releaseSharedEngines } from '../../integrations/langchain/index.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadEngine } from '../../src/engine/load.js';
import { convertedFixture } from '../helpers/fixture.js';

export async function loadFixtureEngine(): Promise<{ modelPath: string; engine: Engine }> {
  const modelPath = await convertedFixture('fp32');
  return { modelPath, engine: await loadEngine({ model: modelPath }) };
}

export async function closeLocalEngines(engine: Engine | undefined): Promise<void> {
  await engine?.close();
  await releaseSharedEngines();
}
