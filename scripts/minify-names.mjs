// Shortens the names the wasm module and its wasm-bindgen glue share:
// imports from the glue (hashed names such as `__wbg_send_d83d0891cf698779`)
// and exports the glue calls as `wasm.NAME`. Both files are rewritten
// together, so they keep agreeing. `memory` keeps its name.
//
//   node scripts/minify-names.mjs pkg/wasmqtt_bg.wasm pkg/wasmqtt.js
import { readFileSync, writeFileSync } from 'node:fs';

const [wasmPath, jsPath] = process.argv.slice(2);
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, 'utf8');
const glueModule = './' + jsPath.split('/').pop().replace(/\.js$/, '_bg.js');

let pos = 8;
const uleb = () => {
  let result = 0, shift = 0, byte;
  do { byte = wasm[pos++]; result += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
  return result;
};
const encodeUleb = (n) => {
  const out = [];
  do { let byte = n % 128; n = Math.floor(n / 128); if (n) byte |= 0x80; out.push(byte); } while (n);
  return Buffer.from(out);
};
const readName = () => { const len = uleb(); const s = wasm.subarray(pos, pos + len).toString(); pos += len; return s; };
const encodeName = (s) => { const bytes = Buffer.from(s); return Buffer.concat([encodeUleb(bytes.length), bytes]); };
const skipLimits = () => { const flags = wasm[pos++]; uleb(); if (flags & 1) uleb(); };

const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
let next = 0;
const shortName = () => {
  let k = next++, s = '';
  do { s += letters[k % letters.length]; k = Math.floor(k / letters.length); } while (k);
  return s;
};
const escape = (s) => s.replace(/\$/g, '\\$');
let renamed = 0;

// Renames `name` in the glue where `pattern` (with NAME in it) matches; the
// new name, or `name` if the glue never mentions it.
function rename(name, pattern) {
  const re = new RegExp(pattern.replace('NAME', escape(name)) + '(?![\\w$])', 'g');
  if (!re.test(js)) return name;
  const short = shortName();
  js = js.replace(re, (m) => m.slice(0, m.length - name.length) + short);
  renamed++;
  return short;
}

const parts = [wasm.subarray(0, 8)];
while (pos < wasm.length) {
  const start = pos;
  const id = wasm[pos++];
  const size = uleb();
  const body = pos;
  if (id === 2 || id === 7) {
    const count = uleb();
    const out = [encodeUleb(count)];
    for (let k = 0; k < count; k++) {
      if (id === 2) {
        const module = readName();
        const field = readName();
        const descStart = pos;
        const kind = wasm[pos++];
        if (kind === 0) uleb();
        else if (kind === 1) { pos++; skipLimits(); }
        else if (kind === 2) skipLimits();
        else if (kind === 3) pos += 2;
        else if (kind === 4) { pos++; uleb(); }
        else throw new Error(`unknown import kind ${kind}`);
        const name = module === glueModule ? rename(field, '(?<![\\w$])NAME(?=: )') : field;
        out.push(encodeName(module), encodeName(name), wasm.subarray(descStart, pos));
      } else {
        const name = readName();
        const descStart = pos;
        pos++;
        uleb();
        const short = name === 'memory' ? name : rename(name, '\\bwasm\\.NAME');
        out.push(encodeName(short), wasm.subarray(descStart, pos));
      }
    }
    if (pos !== body + size) throw new Error(`section ${id} not parsed to its end`);
    const section = Buffer.concat(out);
    parts.push(Buffer.from([id]), encodeUleb(section.length), section);
  } else {
    parts.push(wasm.subarray(start, body + size));
  }
  pos = body + size;
}
writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(jsPath, js);
console.log(`minify-names: ${renamed} names shortened`);
