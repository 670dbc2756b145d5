import { collectDoctorReport, formatDoctorReport } from '../../node/doctor.js';
import { parseFlags } from '../../flags.js';
import type { Command } from '../command.js';

const USAGE = `Usage: corom doctor [--json]

Prints what this host offers the engine, for a bug report: CPU model and the SIMD flags that
matter (AVX2, AVX-512F/BW/VL, AVX512_VNNI, AVX_VNNI, AMX-TILE/INT8/BF16, FMA, F16C; Linux
/proc/cpuinfo), cores, memory, Node, onnxruntime-node and onnxruntime-web versions, which
execution providers load (cpu, cuda: a one-node session each, with the reason when one does not),
the CUDA provider libraries, and the GPU and driver (nvidia-smi, /proc/driver/nvidia/version).

  --json    the same as one JSON object on stdout

Exits 0 whatever it finds (a provider that does not load is reported, not an error).`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'report CPU flags, onnxruntime versions, execution providers that load, GPU/driver',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseFlags(argv, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    const report = await collectDoctorReport();
    io.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report));
    return 0;
  },
};
