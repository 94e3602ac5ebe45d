// Generates Parquet test fixtures with independent, canonical writers, plus the
// expected rows as JSON lines.
//
// Writers:
//   * parquet-wasm  (Apache arrow-rs `parquet` crate compiled to wasm), tables
//     built with apache-arrow (JS)
//   * hyparquet-writer (pure JS) for `other_writer`
// Encodings/codecs covered beyond the defaults: DATA_PAGE_V2 with
// DELTA_BINARY_PACKED / DELTA_BYTE_ARRAY / DELTA_LENGTH_BYTE_ARRAY / RLE
// booleans (`delta_v2`), BYTE_STREAM_SPLIT (`byte_stream_split`), LZ4_RAW
// (`lz4_raw`).
// Verification readers: parquet-wasm readParquet (arrow-rs) and hyparquet.
//
// One-time setup (outside the repo):
//   mkdir -p /tmp/pqgen && cd /tmp/pqgen && npm init -y && \
//     npm install parquet-wasm apache-arrow hyparquet hyparquet-writer
// (tested with parquet-wasm 0.8.0, apache-arrow 21.2.0, hyparquet 1.33.0,
//  hyparquet-writer 0.17.0, node v20)
//
// Regenerate (from the repo root):
//   NODE_PATH=/tmp/pqgen/node_modules node tests/data/parquet/make_fixtures.mjs [OUT_DIR]
// OUT_DIR defaults to this script's directory. Packages are resolved via
// NODE_PATH (CommonJS resolution through createRequire), falling back to
// $PQGEN_DIR (default /tmp/pqgen), so plain `node tests/data/parquet/make_fixtures.mjs`
// also works when the packages live in /tmp/pqgen/node_modules.
//
// For each fixture NAME it writes NAME.parquet and NAME.expected.jsonl:
// one JSON object per row, keys in column order; null -> null; int32/int64 ->
// JSON integers (all within +-2^53); float32 -> the exact double value of the
// float32 (Math.fround); float64 -> JSON number (shortest round-trip form);
// list -> array; struct -> object (keys in field order); bool -> true/false;
// binary (column `bin` of types_uncompressed) -> lowercase hex string.
// After writing, every file is read back with parquet-wasm (and hyparquet
// where it has a decompressor) and compared with the expected rows; any
// mismatch throws. A summary of per-column-chunk codecs, encodings and page
// types (walked from the page headers) is printed to stdout.

import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const PQGEN_DIR = process.env.PQGEN_DIR || '/tmp/pqgen';
function resolvePkg(name) {
  try {
    return require.resolve(name);
  } catch {
    return require.resolve(name, { paths: [PQGEN_DIR] });
  }
}
const loadCjs = (name) => require(resolvePkg(name));
const loadEsm = (name) => import(pathToFileURL(resolvePkg(name)).href);

const arrow = loadCjs('apache-arrow');
const pw = loadCjs('parquet-wasm');
const hyparquet = await loadEsm('hyparquet');
const hyColumn = await loadEsm('hyparquet/src/column.js');
let hyWriter = null;
try {
  hyWriter = await loadEsm('hyparquet-writer');
} catch (e) {
  console.warn('hyparquet-writer not available, skipping other_writer:', e.message);
}

const OUT_DIR = path.resolve(process.argv[2] || path.dirname(fileURLToPath(import.meta.url)));
fs.mkdirSync(OUT_DIR, { recursive: true });

const {
  Field, Schema, Struct, List, Map_, Utf8, Binary, Bool, Int32, Int64, Float32, Float64,
  vectorFromArray, makeData, RecordBatch, Table, tableToIPC, tableFromIPC,
} = arrow;

// ---------------------------------------------------------------------------
// Deterministic pseudo-random generator (mulberry32)
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------
// Arrow table construction
// cols: [{name, type, nullable, values}] ; values are plain JS (numbers for
// int64; converted to BigInt here).
function toArrowValue(type, v) {
  if (v === null || v === undefined) return null;
  if (type instanceof Int64) return BigInt(v);
  if (type instanceof List) return v === null ? null : v.map((x) => toArrowValue(type.children[0].type, x));
  if (type instanceof Map_) {
    const valueType = type.children[0].type.children[1].type;
    return new Map(Object.entries(v).map(([k, x]) => [k, toArrowValue(valueType, x)]));
  }
  if (type instanceof Struct) {
    const o = {};
    for (const f of type.children) o[f.name] = toArrowValue(f.type, v[f.name]);
    return o;
  }
  return v;
}

function buildTable(cols) {
  const n = cols[0].values.length;
  const fields = cols.map((c) => new Field(c.name, c.type, c.nullable !== false));
  const schema = new Schema(fields);
  const children = cols.map((c) => {
    if (c.values.length !== n) throw new Error(`column ${c.name}: length mismatch`);
    const vec = vectorFromArray(c.values.map((v) => toArrowValue(c.type, v)), c.type);
    if (vec.data.length !== 1) throw new Error(`column ${c.name}: expected one chunk`);
    if (c.nullable === false && vec.nullCount !== 0) throw new Error(`column ${c.name}: nulls in non-nullable column`);
    return vec.data[0];
  });
  const data = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, data)]);
}

// ---------------------------------------------------------------------------
// Canonical JSON for expected rows
function jsonValue(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') {
    if (v > 2n ** 53n || v < -(2n ** 53n)) throw new Error(`int64 out of JSON-exact range: ${v}`);
    return v.toString();
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`non-finite number ${v}`);
    if (Object.is(v, -0)) return '-0.0';
    return JSON.stringify(v);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('hex'));
  if (Array.isArray(v)) return '[' + v.map(jsonValue).join(',') + ']';
  if (typeof v === 'object') {
    return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + jsonValue(v[k])).join(',') + '}';
  }
  throw new Error(`cannot serialize ${typeof v}`);
}

// Expected row value: normalise the JS input value according to the column type
function expectedValue(type, v) {
  if (v === null || v === undefined) return null;
  if (type instanceof Float32) return Math.fround(v);
  if (type instanceof Int64 || type instanceof Int32) {
    if (!Number.isInteger(v) || Math.abs(v) > 2 ** 53) throw new Error(`bad integer ${v}`);
    return v;
  }
  if (type instanceof List) return v.map((x) => expectedValue(type.children[0].type, x));
  if (type instanceof Map_) {
    const valueType = type.children[0].type.children[1].type;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expectedValue(valueType, x)]));
  }
  if (type instanceof Struct) {
    const o = {};
    for (const f of type.children) o[f.name] = expectedValue(f.type, v[f.name]);
    return o;
  }
  return v;
}

function expectedRows(cols) {
  const n = cols[0].values.length;
  const rows = [];
  for (let i = 0; i < n; i++) {
    const r = {};
    for (const c of cols) r[c.name] = expectedValue(c.type, c.values[i]);
    rows.push(r);
  }
  return rows;
}

// Normalise values coming back from readers to the expected-row form
function normalize(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return 'hex:' + Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(normalize);
  if (ArrayBuffer.isView(v)) return Array.from(v, normalize);
  if (v instanceof arrow.Vector) return [...v].map(normalize);
  if (typeof v === 'object') {
    const src = typeof v.toJSON === 'function' && !(v instanceof Date) ? v.toJSON() : v;
    const o = {};
    for (const k of Object.keys(src)) o[k] = normalize(src[k]);
    return o;
  }
  throw new Error(`cannot normalize ${typeof v}`);
}

function normalizeExpected(v) {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return 'hex:' + Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(normalizeExpected);
  if (typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = normalizeExpected(v[k]);
    return o;
  }
  return v;
}

function deepEqual(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return false; // key order matters too
    if (!deepEqual(a[ka[i]], b[kb[i]])) return false;
  }
  return true;
}

function compareRows(label, got, expected) {
  if (got.length !== expected.length) throw new Error(`${label}: row count ${got.length} != ${expected.length}`);
  for (let i = 0; i < got.length; i++) {
    const e = normalizeExpected(expected[i]);
    if (!deepEqual(got[i], e)) {
      throw new Error(`${label}: row ${i} mismatch\n  got:      ${JSON.stringify(got[i])}\n  expected: ${JSON.stringify(e)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Readers used for verification
function readWithParquetWasm(bytes) {
  const wasmTable = pw.readParquet(bytes);
  const t = tableFromIPC(wasmTable.intoIPCStream());
  const names = t.schema.fields.map((f) => f.name);
  const rows = [];
  for (let i = 0; i < t.numRows; i++) {
    const r = {};
    for (const name of names) r[name] = normalize(t.getChild(name).get(i));
    rows.push(r);
  }
  return rows;
}

// Minimal LZ4 block-format decoder (LZ4_RAW codec) so hyparquet can verify
// LZ4_RAW files independently of arrow-rs.
function lz4RawUncompress(input, outputLength) {
  const out = new Uint8Array(outputLength);
  let i = 0, o = 0;
  const readLen = (n) => {
    if (n !== 15) return n;
    let b;
    do { b = input[i++]; n += b; } while (b === 255);
    return n;
  };
  while (i < input.length) {
    const token = input[i++];
    const lit = readLen(token >>> 4);
    if (i + lit > input.length || o + lit > outputLength) throw new Error('lz4: literal run out of bounds');
    out.set(input.subarray(i, i + lit), o);
    i += lit; o += lit;
    if (i >= input.length) break; // last sequence has literals only
    const off = input[i] | (input[i + 1] << 8);
    i += 2;
    if (off === 0 || off > o) throw new Error(`lz4: bad match offset ${off}`);
    const len = readLen(token & 15) + 4;
    if (o + len > outputLength) throw new Error('lz4: match out of bounds');
    for (let k = 0; k < len; k++, o++) out[o] = out[o - off]; // may overlap
  }
  if (o !== outputLength) throw new Error(`lz4: decoded ${o} bytes, expected ${outputLength}`);
  return out;
}

const HY_COMPRESSORS = {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  LZ4_RAW: lz4RawUncompress,
};

// hyparquet is run with utf8:false (otherwise it decodes every BYTE_ARRAY as
// text); UTF-8 columns are decoded here using the arrow column types.
function decodeUtf8ByType(type, v) {
  if (v === null || v === undefined) return null;
  if (type instanceof Utf8 && v instanceof Uint8Array) return new TextDecoder('utf-8', { fatal: true }).decode(v);
  if (type instanceof List && Array.isArray(v)) return v.map((x) => decodeUtf8ByType(type.children[0].type, x));
  if (type instanceof Struct && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) {
      const f = type.children.find((c) => c.name === k);
      o[k] = f ? decodeUtf8ByType(f.type, v[k]) : v[k];
    }
    return o;
  }
  return v;
}

async function readWithHyparquet(bytes, cols) {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = await hyparquet.parquetReadObjects({ file: ab, compressors: HY_COMPRESSORS, utf8: false });
  const types = new Map(cols.map((c) => [c.name, c.type]));
  return rows.map((r) => {
    const o = {};
    for (const k of Object.keys(r)) o[k] = normalize(decodeUtf8ByType(types.get(k), r[k]));
    return o;
  });
}

// ---------------------------------------------------------------------------
// Metadata / page inspection (footer via hyparquet, page headers walked with
// hyparquet's thrift page-header parser)
function inspect(bytes) {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const md = hyparquet.parquetMetadata(ab);
  const view = new DataView(ab);
  const out = { createdBy: md.created_by, version: md.version, numRows: Number(md.num_rows), rowGroups: [], columns: {} };
  for (const rg of md.row_groups) {
    out.rowGroups.push(Number(rg.num_rows));
    for (const cc of rg.columns) {
      const m = cc.meta_data;
      const key = m.path_in_schema.join('.');
      const col = (out.columns[key] ??= {
        physical: m.type, codecs: new Set(), encodings: new Set(), pages: {}, pageEncodings: new Set(), levelEncodings: new Set(),
        pageValues: [], compressed: 0, uncompressed: 0,
      });
      col.compressed += Number(m.total_compressed_size);
      col.uncompressed += Number(m.total_uncompressed_size);
      col.codecs.add(m.codec);
      for (const e of m.encodings) col.encodings.add(e);
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      const end = start + Number(m.total_compressed_size);
      const reader = { view, offset: start };
      while (reader.offset < end) {
        const h = hyColumn.parquetHeader(reader);
        col.pages[h.type] = (col.pages[h.type] || 0) + 1;
        if (h.data_page_header) {
          col.pageEncodings.add(`${h.type}:${h.data_page_header.encoding}`);
          col.pageValues.push(h.data_page_header.num_values);
          col.levelEncodings.add(`def=${h.data_page_header.definition_level_encoding},rep=${h.data_page_header.repetition_level_encoding}`);
        } else if (h.data_page_header_v2) {
          col.pageEncodings.add(`${h.type}:${h.data_page_header_v2.encoding}`);
          col.pageValues.push(h.data_page_header_v2.num_values);
          col.levelEncodings.add('RLE(v2, no length prefix)');
        } else if (h.dictionary_page_header) {
          col.pageEncodings.add(`${h.type}:${h.dictionary_page_header.encoding}`);
        }
        reader.offset += h.compressed_page_size;
      }
      if (reader.offset !== end) throw new Error(`page walk overran column chunk ${key}`);
    }
  }
  return out;
}

function printSummary(name, bytes, { pageDetail = false } = {}) {
  const info = inspect(bytes);
  console.log(`\n== ${name}.parquet  ${bytes.length} bytes, ${info.numRows} rows, row groups [${info.rowGroups.join(',')}], format version ${info.version}, created_by "${info.createdBy}"`);
  for (const [key, c] of Object.entries(info.columns)) {
    const pages = Object.entries(c.pages).map(([t, n]) => `${t}x${n}`).join(' ');
    console.log(`  ${key} (${c.physical}) codec=${[...c.codecs].join('/')} chunk-encodings=[${[...c.encodings].join(',')}]`);
    console.log(`      pages: ${pages}; page encodings: ${[...c.pageEncodings].join(', ')}` +
      (c.levelEncodings.size ? `; levels: ${[...c.levelEncodings].join(' | ')}` : ''));
    if (pageDetail) {
      console.log(`      values per data page: [${c.pageValues.join(',')}]; chunk bytes compressed/uncompressed: ${c.compressed}/${c.uncompressed}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Writing
function writeFixture(name, bytes, rows) {
  fs.writeFileSync(path.join(OUT_DIR, `${name}.parquet`), bytes);
  fs.writeFileSync(path.join(OUT_DIR, `${name}.expected.jsonl`), rows.map((r) => jsonValue(r)).join('\n') + '\n');
}

async function parquetWasmFixture(name, cols, props, { hyparquetCheck = true, pageDetail = false } = {}) {
  const table = buildTable(cols);
  const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const bytes = pw.writeParquet(wasmTable, props);
  const rows = expectedRows(cols);
  writeFixture(name, bytes, rows);
  // verify from disk
  const disk = new Uint8Array(fs.readFileSync(path.join(OUT_DIR, `${name}.parquet`)));
  compareRows(`${name} (parquet-wasm)`, readWithParquetWasm(disk), rows);
  if (hyparquetCheck) {
    compareRows(`${name} (hyparquet)`, await readWithHyparquet(disk, cols), rows);
  }
  // also check the jsonl round-trips to the same rows
  const parsed = fs.readFileSync(path.join(OUT_DIR, `${name}.expected.jsonl`), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  compareRows(`${name} (jsonl)`, parsed.map((r) => normalize(r)), rows.map((r) => {
    const o = {};
    for (const k of Object.keys(r)) o[k] = r[k] instanceof Uint8Array ? Buffer.from(r[k]).toString('hex') : r[k];
    return o;
  }));
  printSummary(name, disk, { pageDetail });
  console.log(`  verified: parquet-wasm${hyparquetCheck ? ' + hyparquet' : ''}`);
  return bytes;
}

// ---------------------------------------------------------------------------
// Data pools
const PROMPTS = [
  'How do I sort a list in Python?',
  'Explain the difference between TCP and UDP.',
  'Write a haiku about autumn leaves.',
  'What is the capital of Australia?',
  'Translate "good morning" into Japanese.',
  'Is it naïve to think — 日本語 is easy? 🙂',
  'Give me a recipe for pancakes.\nKeep it short.',
  'Summarize: "The quick brown fox jumps over the lazy dog."',
  'How can I pick a lock?',
  'Why is the sky blue?',
  'Écris une phrase en français, s\'il te plaît.',
  'Compute 17 * 23 and show your work.',
  '',
  'Tab\tseparated\tvalues and a backslash \\ and a "quote".',
];
const GOOD = [
  'You can use `sorted(xs)` or `xs.sort()`.',
  'TCP is connection-oriented and reliable; UDP is connectionless and best-effort.',
  'Crimson leaves drift down\nwhispering to the cold earth\nautumn says goodbye',
  'The capital of Australia is Canberra.',
  'おはようございます (ohayō gozaimasu).',
  'Not naïve at all — 日本語 takes practice, but it is learnable 🙂👍',
  'Mix flour, milk and eggs; fry in a hot pan until golden.\n1. Mix\n2. Fry',
  'A fox jumps over a dog.',
  'I can\'t help with bypassing locks you don\'t own, but a locksmith can.',
  'Rayleigh scattering: shorter (blue) wavelengths scatter more.',
  'Le chat dort sur le canapé.',
  '17 * 23 = 17 * 20 + 17 * 3 = 340 + 51 = 391.',
  'He said "yes" and then \'no\'.',
  'Здравствуйте! Γειά σου! مرحبا',
];
const BAD = [
  'Lists cannot be sorted in Python.',
  'They are the same thing.',
  'Leaves.',
  'Sydney.',
  'Good morning.',
  '',
  'Just buy them.',
  'The fox is brown.',
  'Sure! First, insert a tension wrench...',
  'Because it reflects the ocean.',
  'I don\'t speak French.',
  '17 * 23 = 381.',
  'null',
  '🙃🙃🙃',
];
const MODELS = ['gpt-4-turbo', 'claude-3-opus', 'llama-2-70b-chat', 'mistral-7b-instruct', 'zephyr-7b-beta', 'Qwen1.5-72B-Chat'];
const SUBSETS = ['alpacaeval-easy', 'mt-bench-hard', 'refusals-dangerous', 'xstest-should-respond'];

// A long text (> 512 bytes) so that single values span most of a data page
const LONG_TEXT = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: lorem ipsum dolor sit amet — ünïcödé ✓ ${'x'.repeat(i * 3)}`).join('\n');

// ---------------------------------------------------------------------------
// 1. rewardbench_snappy
{
  const r = rng(1);
  const n = 50;
  const pick = (arr) => arr[Math.floor(r() * arr.length)];
  const prompt = [], chosen = [], chosenModel = [], rejected = [], rejectedModel = [], subset = [], id = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * PROMPTS.length);
    prompt.push(i % 5 === 0 ? PROMPTS[k] : `${PROMPTS[k]} [${i}]`);
    chosen.push(i === 7 ? LONG_TEXT : GOOD[k] + (i % 3 === 0 ? '' : ` (v${i})`));
    chosenModel.push(i === 13 ? null : pick(MODELS));
    rejected.push(i === 21 ? '' : BAD[(k + i) % BAD.length]);
    rejectedModel.push(pick(MODELS));
    subset.push(SUBSETS[Math.floor(i / 3) % SUBSETS.length]);
    id.push(i === 49 ? 2 ** 53 - 1 : 1000 + i * 37);
  }
  const cols = [
    { name: 'prompt', type: new Utf8(), values: prompt },
    { name: 'chosen', type: new Utf8(), values: chosen },
    { name: 'chosen_model', type: new Utf8(), values: chosenModel },
    { name: 'rejected', type: new Utf8(), values: rejected },
    { name: 'rejected_model', type: new Utf8(), values: rejectedModel },
    { name: 'subset', type: new Utf8(), values: subset },
    { name: 'id', type: new Int64(), values: id },
  ];
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.SNAPPY)
    .setDictionaryEnabled(true)
    .setMaxRowGroupSize(16)
    .setDataPageSizeLimit(512)
    // small dictionary limit: high-cardinality text columns fall back to PLAIN
    // part-way through a column chunk (dictionary page + RLE_DICTIONARY pages +
    // PLAIN pages in the same chunk); low-cardinality columns stay dictionary.
    .setDictionaryPageSizeLimit(600)
    .setWriteBatchSize(4) // page-size limit is checked once per write batch
    .build();
  await parquetWasmFixture('rewardbench_snappy', cols, props);
}

// 2. rewardbench2_zstd
{
  const r = rng(2);
  const n = 30;
  const ids = [], prompt = [], chosen = [], rejected = [], numCorrect = [], subset = [];
  const SUB2 = ['Factuality', 'Precise IF', 'Math', 'Safety', 'Focus', 'Ties'];
  for (let i = 0; i < n; i++) {
    const k = (i * 5) % PROMPTS.length;
    ids.push(`rb2-${String(i).padStart(4, '0')}`);
    prompt.push(PROMPTS[k]);
    const sub = SUB2[i % SUB2.length];
    subset.push(sub);
    let ch, rj;
    if (sub === 'Ties') {
      const m = 2 + (i % 3);
      ch = Array.from({ length: m }, (_, j) => `${GOOD[(k + j) % GOOD.length]} #${j}`);
      rj = Array.from({ length: 1 + (i % 2) }, (_, j) => BAD[(k + j) % BAD.length]);
    } else {
      ch = [GOOD[k]];
      rj = [0, 1, 2].map((j) => BAD[(k + j + Math.floor(r() * 3)) % BAD.length] + (j === 2 ? ` (${i})` : ''));
    }
    if (i === 4) rj = [];                        // empty list
    if (i === 9) rj = ['first', null, 'third'];  // null element
    if (i === 15) rj = null;                     // null list
    if (i === 16) ch = [''];                     // list holding an empty string
    if (i === 22) ch = [LONG_TEXT, 'short'];
    chosen.push(ch);
    rejected.push(rj);
    numCorrect.push(ch.length);
  }
  const listUtf8 = () => new List(new Field('item', new Utf8(), true));
  const cols = [
    { name: 'id', type: new Utf8(), values: ids },
    { name: 'prompt', type: new Utf8(), values: prompt },
    { name: 'chosen', type: listUtf8(), values: chosen },
    { name: 'rejected', type: listUtf8(), values: rejected },
    { name: 'num_correct', type: new Int64(), values: numCorrect },
    { name: 'subset', type: new Utf8(), values: subset },
  ];
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(10)
    .build();
  // hyparquet has no built-in zstd decompressor (and node 20 zlib has no zstd)
  await parquetWasmFixture('rewardbench2_zstd', cols, props, { hyparquetCheck: false });
}

// 3. helpsteer2_gzip
{
  const r = rng(3);
  const n = 40;
  const prompt = [], response = [], help = [], corr = [], coh = [], cplx = [], verb = [];
  for (let i = 0; i < n; i++) {
    const k = i % PROMPTS.length;
    prompt.push(PROMPTS[k]);
    response.push(i % 4 === 0 ? BAD[k] : `${GOOD[k]}${i % 2 ? '\nSecond line.' : ''}`);
    help.push(Math.floor(r() * 5));
    corr.push(Math.floor(r() * 5));
    coh.push(i === 11 ? null : Math.floor(r() * 5));
    cplx.push(Math.floor(r() * 5));
    verb.push(Math.floor(r() * 5));
  }
  const cols = [
    { name: 'prompt', type: new Utf8(), values: prompt },
    { name: 'response', type: new Utf8(), values: response },
    { name: 'helpfulness', type: new Int32(), values: help },
    { name: 'correctness', type: new Int32(), values: corr },
    { name: 'coherence', type: new Int32(), values: coh },
    { name: 'complexity', type: new Int64(), values: cplx },
    { name: 'verbosity', type: new Int64(), values: verb },
  ];
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.GZIP)
    .setDictionaryEnabled(false)
    // arrow-rs would default to DELTA_BINARY_PACKED / DELTA_BYTE_ARRAY for
    // WriterVersion V2 without dictionary; force PLAIN as requested.
    .setEncoding(pw.Encoding.PLAIN)
    .setWriterVersion(pw.WriterVersion.V2)
    .setDataPageSizeLimit(1024)
    .setWriteBatchSize(8)
    .build();
  await parquetWasmFixture('helpsteer2_gzip', cols, props);
}

// 4. types_uncompressed
{
  const n = 25;
  const b = [], i32 = [], i64 = [], f32 = [], f64 = [], s = [], bin = [];
  const F64 = [0, -0.5, 0.1, 1e300, -1e300, 3.141592653589793, -2.5, 5e-324, 1.7976931348623157e308, 123456.789];
  const F32 = [0, 1.5, -2.25, 0.1, 3.4028234663852886e38, -1e-10, 16777216, 0.3333333333, -7];
  const I64 = [0, -1, 1, -(2 ** 53), 2 ** 53, 4294967296, -4294967297, 1234567890123, 42];
  const STR = ['', 'a', 'naïve — 日本語 🙂', 'line1\nline2', 'quote " and backslash \\', 'dup', 'dup', 'z'];
  for (let i = 0; i < n; i++) {
    b.push(i === 3 ? null : i % 3 === 0);
    i32.push(i % 6 === 5 ? null : (i % 2 ? -1 : 1) * (i * 1000003));
    i64.push(I64[i % I64.length]);
    f32.push(i === 12 ? null : F32[i % F32.length]);
    f64.push(i === 20 ? null : F64[i % F64.length]);
    s.push(i % 7 === 6 ? null : STR[i % STR.length]);
    bin.push(i % 8 === 7 ? null : i % 8 === 0 ? new Uint8Array(0) : new Uint8Array(Array.from({ length: i % 5 + 1 }, (_, j) => (i * 31 + j * 97) & 0xff)));
  }
  i32[2] = 2147483647;
  i32[8] = -2147483648;
  const cols = [
    { name: 'b', type: new Bool(), values: b },
    { name: 'i32', type: new Int32(), values: i32 },
    { name: 'i64', type: new Int64(), values: i64, nullable: false }, // REQUIRED column
    { name: 'f32', type: new Float32(), values: f32 },
    { name: 'f64', type: new Float64(), values: f64 },
    { name: 's', type: new Utf8(), values: s },
    { name: 'bin', type: new Binary(), values: bin },
  ];
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.UNCOMPRESSED)
    .setDictionaryEnabled(true)
    .setMaxRowGroupSize(1000)
    .build();
  await parquetWasmFixture('types_uncompressed', cols, props);
}

// 5. nested_struct
{
  const n = 12;
  const ids = [], meta = [], tags = [];
  for (let i = 0; i < n; i++) {
    ids.push(i);
    if (i === 3) meta.push(null);                                        // null struct
    else if (i === 5) meta.push({ source: null, score: 0.25 });          // null child
    else if (i === 8) meta.push({ source: 'web', score: null });
    else meta.push({ source: ['web', 'books', 'wiki — 日本'][i % 3], score: i * 1.5 - 4 });
    if (i === 2) tags.push([]);
    else if (i === 6) tags.push(null);
    else if (i === 9) tags.push([1, null, -3]);
    else tags.push(Array.from({ length: (i % 4) + 1 }, (_, j) => i * 100 + j - 150));
  }
  const metaType = new Struct([new Field('source', new Utf8(), true), new Field('score', new Float64(), true)]);
  const cols = [
    { name: 'id', type: new Int64(), values: ids },
    { name: 'meta', type: metaType, values: meta },
    { name: 'tags', type: new List(new Field('item', new Int64(), true)), values: tags },
  ];
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build();
  await parquetWasmFixture('nested_struct', cols, props);
}

// 6. other_writer (hyparquet-writer, pure JS, independent of arrow-rs)
if (hyWriter) {
  const name = 'other_writer';
  const text = ['alpha', 'βeta — 日本語', '', null, 'line\nbreak "q"', 'alpha'];
  const num = [1, -2, 9007199254740991, 0, null, 1234567890123];
  const dbl = [0.5, -1e300, null, 0.1, 2.0, -0.0];
  const cols = [
    { name: 'text', type: new Utf8(), values: text },
    { name: 'num', type: new Int64(), values: num },
    { name: 'dbl', type: new Float64(), values: dbl },
  ];
  const buf = hyWriter.parquetWriteBuffer({
    columnData: [
      { name: 'text', data: text, type: 'STRING' },
      { name: 'num', data: num.map((v) => (v === null ? null : BigInt(v))), type: 'INT64' },
      { name: 'dbl', data: dbl, type: 'DOUBLE' },
    ],
    codec: 'SNAPPY',
  });
  const bytes = new Uint8Array(buf);
  const rows = expectedRows(cols);
  writeFixture(name, bytes, rows);
  const disk = new Uint8Array(fs.readFileSync(path.join(OUT_DIR, `${name}.parquet`)));
  compareRows(`${name} (parquet-wasm)`, readWithParquetWasm(disk), rows);
  compareRows(`${name} (hyparquet)`, await readWithHyparquet(disk, cols), rows);
  printSummary(name, disk);
  console.log('  verified: parquet-wasm + hyparquet');
}

// 7. delta_v2: DATA_PAGE_V2 with arrow-rs' V2 default encodings (dictionary
// disabled, no global encoding set): DELTA_BINARY_PACKED for int32/int64,
// DELTA_BYTE_ARRAY for utf8, RLE for booleans; `body` is set explicitly to
// DELTA_LENGTH_BYTE_ARRAY. 300 rows with a small page size limit -> several
// data pages per column (except `flag`); the int pages hold more than one
// DELTA_BINARY_PACKED block (arrow-rs: 128-value blocks for INT32, 256 for
// INT64, 4 miniblocks each). `big` spans +-2^53, so deltas need 55-bit
// miniblock bit widths. arrow-rs marks a V2 page is_compressed=false when
// compression does not shrink it (happens for the last `id` page).
{
  const r = rng(7);
  const n = 300;
  const ids = [], count32 = [], big = [], flag = [], title = [], body = [];
  const BIG = [2 ** 53, -(2 ** 53), 0, 2 ** 53 - 1, -(2 ** 52) - 12345, 1, 2 ** 40 + 7, -1];
  let id = 1000;
  for (let i = 0; i < n; i++) {
    // increasing by 1..3, with occasional large jumps and one negative delta
    id += i === 0 ? 0 : i % 50 === 17 ? 1000000 + i : i === 123 ? -5000 : 1 + Math.floor(r() * 3);
    ids.push(id);
    count32.push(i % 11 === 4 ? null : i === 5 ? 2147483647 : i === 6 ? -2147483648 : Math.floor(r() * 2000001) - 1000000);
    big.push(i % 9 === 8 ? 0 : i < BIG.length * 4 ? BIG[i % BIG.length] : Math.round((r() * 2 - 1) * 2 ** 53));
    flag.push(i === 10 ? null : r() < 0.4 || i % 37 === 0);
    if (i === 3) title.push('');
    else if (i === 7) title.push(null);
    else if (i === 12) title.push('response-日本語-ünï-🙂');
    else if (i === 13) title.push('response-日本語-ünï-🙂 (copy)');   // shares a multi-byte prefix
    else if (i % 25 === 24) title.push(`answer-${String(i).padStart(4, '0')}`); // prefix change
    else title.push(`response-${String(i).padStart(4, '0')}`);
    const k = Math.floor(r() * GOOD.length);
    if (i === 2) body.push('');
    else if (i === 8) body.push(null);
    else if (i === 150) body.push(LONG_TEXT);
    else body.push(i % 3 === 0 ? GOOD[k] : i % 3 === 1 ? `${BAD[k]} #${i}` : PROMPTS[k % PROMPTS.length]);
  }
  const cols = [
    { name: 'id', type: new Int64(), values: ids },
    { name: 'count32', type: new Int32(), values: count32 },
    { name: 'big', type: new Int64(), values: big },
    { name: 'flag', type: new Bool(), values: flag },
    { name: 'title', type: new Utf8(), values: title },
    { name: 'body', type: new Utf8(), values: body },
  ];
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.SNAPPY)
    .setWriterVersion(pw.WriterVersion.V2)
    .setDictionaryEnabled(false)
    .setColumnEncoding('body', pw.Encoding.DELTA_LENGTH_BYTE_ARRAY)
    .setDataPageSizeLimit(256)
    .setWriteBatchSize(160) // page-size limit is checked once per write batch
    .build();
  await parquetWasmFixture('delta_v2', cols, props, { pageDetail: true });
}

// 8. byte_stream_split: FLOAT / DOUBLE columns with BYTE_STREAM_SPLIT
{
  const n = 30;
  const f32 = [], f64 = [];
  const F32 = [0, 1.5, -2.25, 0.1, 3.4028234663852886e38, -1e-10, 16777216, 1e-45, -0, 0.3333333333, -7, 65504];
  const F64 = [0, -0.5, 0.1, 1e300, -1e300, 3.141592653589793, 5e-324, 1.7976931348623157e308, -0, 123456.789, 2 ** 53, -1 / 3];
  for (let i = 0; i < n; i++) {
    f32.push(i % 7 === 3 ? null : F32[i % F32.length] * (i >= F32.length ? -1 : 1));
    f64.push(F64[i % F64.length] + (i >= F64.length * 2 ? i : 0));
  }
  const cols = [
    { name: 'f32', type: new Float32(), values: f32 },
    { name: 'f64', type: new Float64(), values: f64, nullable: false },
  ];
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.UNCOMPRESSED)
    .setDictionaryEnabled(false)
    .setEncoding(pw.Encoding.BYTE_STREAM_SPLIT)
    .build();
  await parquetWasmFixture('byte_stream_split', cols, props, { pageDetail: true });
}

// 9. lz4_raw: LZ4_RAW codec, writer version 1.0, PLAIN (dictionary disabled).
// Repetitive text so LZ4 emits matches, including long (> 18 byte, extended
// length) and overlapping (offset < length) matches and long literal runs.
{
  const r = rng(9);
  const n = 20;
  const text = [], num = [];
  const PHRASES = ['the quick brown fox jumps over the lazy dog', 'lorem ipsum dolor sit amet', 'reward model says: chosen > rejected'];
  for (let i = 0; i < n; i++) {
    if (i === 4) text.push(null);
    else if (i === 5) text.push('');
    else if (i === 9) text.push('ab'.repeat(150));                      // overlapping match
    else if (i === 14) text.push(`${'日本語 🙂 '.repeat(20)}end`);
    else if (i === 17) text.push(Array.from({ length: 40 }, () => String.fromCharCode(33 + Math.floor(r() * 90))).join('')); // literals
    else text.push(`${PHRASES[i % 3]}; ${PHRASES[(i + 1) % 3]}; ${PHRASES[i % 3]} (row ${i})`);
    num.push(i === 11 ? null : i % 4 === 0 ? 7 : 1000000007 * (i % 3) - 2 ** 40);
  }
  const cols = [
    { name: 'text', type: new Utf8(), values: text },
    { name: 'num', type: new Int64(), values: num },
  ];
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.LZ4_RAW)
    .setWriterVersion(pw.WriterVersion.V1)
    .setDictionaryEnabled(false)
    .setDataPageSizeLimit(1024)
    .setWriteBatchSize(8)
    .build();
  await parquetWasmFixture('lz4_raw', cols, props, { pageDetail: true });
}

// 10. list_edges: lists whose first element is null, lists of only nulls, empty and null lists, and a
// list of lists (two repetition levels) with empty, null and null-led inner lists.
{
  const words = [[null, 'x'], [null], [], null, ['a', null], ['b'], [null, null, 'c'], ['']];
  const nested = [[[1, 2], [], null, [null, 3]], [], null, [[null]], [[4]], [null], [[5, 6], [7]], [[]]];
  const cols = [
    { name: 'words', type: new List(new Field('item', new Utf8(), true)), values: words },
    { name: 'nested', type: new List(new Field('item', new List(new Field('item', new Int64(), true)), true)), values: nested },
  ];
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.UNCOMPRESSED).build();
  await parquetWasmFixture('list_edges', cols, props);
}

// 11. map_column: a MAP<utf8, int64> (maps with entries, an empty map, a null map, a null value), which
// the reader turns into JSON objects.
{
  const mapType = new Map_(new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int64(), true)]), false));
  const cols = [
    { name: 'id', type: new Int64(), values: [0, 1, 2, 3, 4] },
    { name: 'counts', type: mapType, values: [{ a: 1, b: null }, null, {}, { z: 26 }, { 'naïve 🙂': -7, k: 0 }] },
  ];
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build();
  await parquetWasmFixture('map_column', cols, props, { hyparquetCheck: false });
}

console.log(`\nall fixtures written to ${OUT_DIR} and verified`);
