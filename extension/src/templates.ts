/** The notebook templates shipped in tokenfactory/templates (names match the Python side). */
export const TEMPLATES = [
  { name: 'playground', title: 'Playground', caption: 'Chat with a model, streaming', rank: 1 },
  { name: 'model-library', title: 'Model Library', caption: 'Browse, load and unload models', rank: 2 },
  { name: 'batch-job', title: 'Batch Job', caption: 'Run a JSONL batch at batch prices', rank: 3 },
  { name: 'lora-training', title: 'LoRA Training', caption: 'Fine-tune an adapter and serve it', rank: 4 }
];

export const DEFAULT_MODEL = 'HuggingFaceTB/SmolLM2-135M-Instruct';

export function batchCell(model: string): string {
  return [
    `%%tf_batch --sla 24h --model ${model}`,
    '{"custom_id": "q1", "body": {"messages": [{"role": "user", "content": "Name a primary color."}], "max_tokens": 32}}',
    '{"custom_id": "q2", "body": {"messages": [{"role": "user", "content": "Name a planet."}], "max_tokens": 32}}'
  ].join('\n');
}

/** The cell that makes %%tf_batch known in a kernel that has not imported tokenfactory. */
export const LOAD_CELL = '%load_ext tokenfactory';

/** A cell showing a job's live monitor, on the gateway at ``baseUrl`` (its key is found from
 * the gateway's discovery file, by that URL). */
export function monitorCell(kind: 'batch' | 'training', id: string, baseUrl: string): string {
  const widget = kind === 'batch' ? 'BatchMonitor' : 'TrainingMonitor';
  return ['import tokenfactory as tf', '', `tf.${widget}(${JSON.stringify(id)}, base_url=${JSON.stringify(baseUrl)})`].join(
    '\n'
  );
}
