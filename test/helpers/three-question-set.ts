/**
 * The hand-made eval set of the `corom eval` tests: three passages, each with one question that
 * repeats words of its own passage only, so BM25 must rank each question's own passage first.
 */
import { writeFile } from 'node:fs/promises';

export const THREE_PASSAGES = ['长城是中国古代的军事防御工程。', '熊猫主要以竹子为食。', '珠穆朗玛峰是世界最高峰。'];
/** Question i is about passage i. */
export const THREE_QUESTIONS = ['长城是什么工程？', '熊猫吃什么？', '世界最高峰是哪座山？'];

/** Writes the set to `file` in CMRC 2018's (SQuAD's) layout: passage ids p0..p2, question ids q0..q2. */
export async function writeThreeQuestionSet(file: string): Promise<void> {
  const paragraphs = THREE_PASSAGES.map((context, i) => ({ id: `p${i}`, context, qas: [{ id: `q${i}`, question: THREE_QUESTIONS[i]! }] }));
  await writeFile(file, JSON.stringify({ data: [{ paragraphs }] }));
}
