/** /proc/cpuinfo parsing for `corom doctor`: flags from sample texts, and the int8 hint they lead to. */
import { describe, expect, it } from 'vitest';
import { CPU_FLAGS, int8Hint, parseCpuInfo } from '../../src/runtime/cpu-features.js';

const processor = (n: number, model: string, flags: string): string =>
  `processor\t: ${n}\nvendor_id\t: GenuineIntel\nmodel name\t: ${model}\nflags\t\t: ${flags}\nbogomips\t: 4800.00\n\n`;

// Sapphire Rapids (abridged): AVX-512 with VNNI, AVX_VNNI and AMX.
const SPR_FLAGS =
  'fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl avx_vnni avx512_bf16 avx512vbmi avx512_vnni avx512_fp16 amx_bf16 amx_tile amx_int8';
// Haswell: AVX2 + FMA + F16C, nothing newer.
const HASWELL_FLAGS = 'fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand avx2 bmi1 bmi2 erms';

describe('parseCpuInfo', () => {
  it('reads model, processor count and every AVX-512 / VNNI / AMX flag of a Sapphire Rapids host', () => {
    const text = processor(0, 'Intel(R) Xeon(R) Platinum 8480+', SPR_FLAGS) + processor(1, 'Intel(R) Xeon(R) Platinum 8480+', SPR_FLAGS);
    const cpu = parseCpuInfo(text);
    expect(cpu.model).toBe('Intel(R) Xeon(R) Platinum 8480+');
    expect(cpu.processors).toBe(2);
    expect(cpu.flags).toEqual({
      AVX2: true,
      FMA: true,
      F16C: true,
      'AVX-512F': true,
      'AVX-512BW': true,
      'AVX-512VL': true,
      AVX512_VNNI: true,
      AVX_VNNI: true,
      'AMX-TILE': true,
      'AMX-INT8': true,
      'AMX-BF16': true,
    });
    expect(int8Hint(cpu.flags)).toMatch(/^AMX-INT8 present/);
  });

  it('reads an AVX2-only host as such, with the AVX2 int8 hint', () => {
    const cpu = parseCpuInfo(processor(0, 'Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz', HASWELL_FLAGS));
    expect(cpu.flags).toEqual({
      AVX2: true,
      FMA: true,
      F16C: true,
      'AVX-512F': false,
      'AVX-512BW': false,
      'AVX-512VL': false,
      AVX512_VNNI: false,
      AVX_VNNI: false,
      'AMX-TILE': false,
      'AMX-INT8': false,
      'AMX-BF16': false,
    });
    expect(int8Hint(cpu.flags)).toMatch(/^AVX2 without VNNI\/AMX/);
  });

  it('matches whole flag names only (avx512_vnni does not make avx512f, avx2 does not come from avx)', () => {
    const cpu = parseCpuInfo(processor(0, 'x', 'avx avx512_vnni'));
    expect(cpu.flags.AVX2).toBe(false);
    expect(cpu.flags['AVX-512F']).toBe(false);
    expect(cpu.flags.AVX512_VNNI).toBe(true);
    expect(int8Hint(cpu.flags)).toMatch(/^AVX512_VNNI present \(no AMX\)/);
  });

  it('gives all flags false and no model for a non-x86 layout', () => {
    const arm = 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\nCPU implementer\t: 0x41\n\n';
    const cpu = parseCpuInfo(arm);
    expect(cpu.model).toBeUndefined();
    expect(cpu.processors).toBe(1);
    expect(Object.values(cpu.flags).every((f) => f === false)).toBe(true);
    expect(Object.keys(cpu.flags)).toEqual(Object.keys(CPU_FLAGS));
    expect(int8Hint(cpu.flags)).toMatch(/^no AVX2 reported/);
  });
});
