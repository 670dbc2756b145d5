/**
 * The CPU features that decide how fast onnxruntime's kernels run here, parsed from Linux's
 * /proc/cpuinfo text. fp32 MatMul wants AVX2+FMA (or AVX-512); int8 (`DynamicQuantizeMatMul`, u8s8)
 * gains most with VNNI (AVX512_VNNI or AVX_VNNI: one instruction per 4-way int8 dot product) or
 * AMX (INT8 tiles); on AVX2 alone the u8s8 path multiplies pairs into int16 with saturation, which
 * is why the int8 converter keeps weights to 7 bits (README, Quantization).
 */

/** Flags reported, in display order: display name -> /proc/cpuinfo flag. */
export const CPU_FLAGS = {
  AVX2: 'avx2',
  FMA: 'fma',
  F16C: 'f16c',
  'AVX-512F': 'avx512f',
  'AVX-512BW': 'avx512bw',
  'AVX-512VL': 'avx512vl',
  AVX512_VNNI: 'avx512_vnni',
  AVX_VNNI: 'avx_vnni',
  'AMX-TILE': 'amx_tile',
  'AMX-INT8': 'amx_int8',
  'AMX-BF16': 'amx_bf16',
} as const;

export type CpuFlagName = keyof typeof CPU_FLAGS;

export interface CpuFeatures {
  /** "model name" of the first processor, when present. */
  model?: string;
  /** Processors listed (logical CPUs the kernel shows, not the ones this process may use). */
  processors: number;
  flags: Record<CpuFlagName, boolean>;
}

/** Parses /proc/cpuinfo text (x86 layout: "flags : ..."; other layouts give all flags false). */
export function parseCpuInfo(text: string): CpuFeatures {
  let model: string | undefined;
  let processors = 0;
  let flagLine: string | undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor') processors++;
    else if (key === 'model name' && model === undefined) model = value;
    else if (key === 'flags' && flagLine === undefined) flagLine = value;
  }
  const present = new Set((flagLine ?? '').split(/\s+/).filter(Boolean));
  const flags = Object.fromEntries(Object.entries(CPU_FLAGS).map(([name, flag]) => [name, present.has(flag)])) as Record<CpuFlagName, boolean>;
  return { ...(model !== undefined ? { model } : {}), processors, flags };
}

/**
 * What the flags mean for int8 vs fp32: which instructions int8 MatMul can use here. How much
 * faster int8 actually runs is measured by `npm run bench` (section int8OverFp32), never assumed:
 * on the 2-core AVX512_VNNI host this was written on it measured 1.15x (README, Benchmarks).
 */
export function int8Hint(flags: Record<CpuFlagName, boolean>): string {
  const measure = 'measure the int8/fp32 ratio on this host with npm run bench';
  if (flags['AMX-INT8'] && flags['AMX-TILE']) return `AMX-INT8 present: int8 MatMul can run on AMX tiles, the largest int8 gain over fp32 x86 offers; ${measure}`;
  if (flags.AVX512_VNNI || flags.AVX_VNNI) {
    return `${flags.AVX512_VNNI ? 'AVX512_VNNI' : 'AVX_VNNI'} present (no AMX): int8 MatMul can use VNNI dot products, a larger int8 gain than AVX2 alone; ${measure}`;
  }
  if (flags.AVX2) return `AVX2 without VNNI/AMX: int8 MatMul goes through 16-bit saturating multiplies, a smaller int8 gain over fp32 than on VNNI/AMX CPUs; ${measure}`;
  return `no AVX2 reported: onnxruntime uses older (or non-x86) kernels; ${measure}`;
}
