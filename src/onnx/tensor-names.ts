/**
 * The names of the tensors a converted graph exposes: the contract between the converter
 * (src/onnx/bert-graph.ts, src/store/shards.ts) and the runtimes that feed and read them
 * (src/runtime/shard-runner.ts). Kept apart from the graph builder, which imports onnx-proto
 * (protobufjs): a shard Worker runs ORT-format files and needs the names, not the encoder.
 */
export const OUTPUT_EMBEDDING = 'sentence_embedding';
export const OUTPUT_HIDDEN = 'last_hidden_state';
export const OUTPUT_LOGITS = 'logits';
/** The hidden state a layer shard receives from the previous one. */
export const SHARD_INPUT_HIDDEN = 'hidden_state_in';
/** The hidden state a layer shard hands to the next one. */
export const SHARD_OUTPUT_HIDDEN = 'hidden_state_out';
