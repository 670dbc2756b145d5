/** Copy-paste code that sends the form's current input to this server: curl, the OpenAI client, LangChain. */
import { requestTexts, type PipelineRequest } from './pipeline.js';

export interface SnippetInput {
  /** The page's origin, e.g. http://127.0.0.1:8080. */
  origin: string;
  request: PipelineRequest;
  /** The model id the OpenAI/LangChain snippets name (they have no server default). */
  model: string;
  /** Whether the server wants a key: the snippets then read it from $COROM_API_KEY. */
  keyed: boolean;
}

export interface Snippets {
  curl: string;
  openai: string;
  langchain: string;
}

/** One POSIX shell word: single-quoted, embedded quotes as '\''. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Indented JSON for a JS literal at `indent`. */
function jsLiteral(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
}

export function buildSnippets({ origin, request, model, keyed }: SnippetInput): Snippets {
  const texts = requestTexts(request);
  const curl = [
    `curl -sS ${origin}/v1/sentence-embedding \\`,
    `  -H 'Content-Type: application/json' \\`,
    ...(keyed ? ['  -H "Authorization: Bearer $COROM_API_KEY" \\'] : []),
    `  -d ${shellQuote(JSON.stringify(request, null, 2))}`,
  ].join('\n');

  const openai = [
    `import OpenAI from 'openai';`,
    ``,
    `const client = new OpenAI({ baseURL: '${origin}/v1', apiKey: process.env.COROM_API_KEY ?? 'unused' });`,
    `const { data } = await client.embeddings.create({`,
    `  model: ${JSON.stringify(model)},`,
    `  input: ${jsLiteral(texts, '  ')},`,
    `  encoding_format: 'float',`,
    `});`,
    `// Unit-length vectors: the dot product of the first with each other one is the cosine column.`,
    `const dot = (a, b) => a.reduce((sum, x, i) => sum + x * b[i], 0);`,
    `console.log(data.slice(1).map((d) => dot(data[0].embedding, d.embedding)));`,
  ].join('\n');

  const langchain = [
    `import { CoromEmbeddings } from 'corom-edge/langchain';`,
    ``,
    `// The API key comes from env COROM_API_KEY (or pass apiKey).`,
    `const embeddings = new CoromEmbeddings({ baseUrl: '${origin}', model: ${JSON.stringify(model)} });`,
    `const query = await embeddings.embedQuery(${JSON.stringify(texts[0] ?? '')});`,
    `const documents = await embeddings.embedDocuments(${jsLiteral(texts.slice(1), '')});`,
    `// Unit-length vectors by default: these dot products are the cosine column.`,
    `const dot = (a, b) => a.reduce((sum, x, i) => sum + x * b[i], 0);`,
    `console.log(documents.map((d) => dot(query, d)));`,
  ].join('\n');

  return { curl, openai, langchain };
}
