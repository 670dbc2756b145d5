/**
 * The benchmark corpus: real Chinese questions and passages from CMRC 2018 (data/cmrc2018,
 * CC BY-SA 4.0, Cui et al. 2019), interleaved so every batch mixes short and long texts.
 */
import { readFileSync } from 'node:fs';

interface Squad {
  data: { paragraphs: { context: string; qas: { question: string }[] }[] }[];
}

export function loadCorpus(file: string, count: number): { mixed: string[]; queries: string[] } {
  const squad = JSON.parse(readFileSync(file, 'utf8')) as Squad;
  const questions: string[] = [];
  const passages: string[] = [];
  for (const article of squad.data) {
    for (const p of article.paragraphs) {
      passages.push(p.context);
      for (const q of p.qas) questions.push(q.question);
    }
  }
  const mixed: string[] = [];
  // Two questions per passage: roughly the query/document mix of a RAG ingestion + query load.
  for (let i = 0; mixed.length < count; i++) {
    mixed.push(passages[i % passages.length]!);
    if (mixed.length < count) mixed.push(questions[(2 * i) % questions.length]!);
    if (mixed.length < count) mixed.push(questions[(2 * i + 1) % questions.length]!);
  }
  return { mixed, queries: questions };
}
