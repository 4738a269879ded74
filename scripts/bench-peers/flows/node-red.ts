/**
 * Node-RED flows for both workloads (one flows file, one tab).
 * - W1: http in POST /w1 → function → http response.
 * - W3: http in POST /w3 → http response (answered at once) and → function → function. Node-RED keeps
 *   no execution store, so the second function counts completed runs in global context, read back
 *   through GET /w3/count.
 */
import { STEP1_EXPR, STEP2_EXPR } from './code.js';

const fn = (id: string, name: string, body: string, wires: string[][]) => ({
  id,
  type: 'function',
  z: 'tab',
  name,
  func: body,
  outputs: 1,
  timeout: 0,
  noerr: 0,
  initialize: '',
  finalize: '',
  libs: [],
  x: 300,
  y: 100,
  wires,
});
const httpIn = (id: string, url: string, method: string, wires: string[][]) => ({
  id,
  type: 'http in',
  z: 'tab',
  name: '',
  url,
  method,
  upload: false,
  swaggerDoc: '',
  x: 100,
  y: 100,
  wires,
});
const httpOut = (id: string, statusCode = '') => ({
  id,
  type: 'http response',
  z: 'tab',
  name: '',
  statusCode,
  headers: {},
  x: 500,
  y: 100,
  wires: [],
});

export function nodeRedFlows(): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'gridflow-bench', disabled: false, info: '' },
    // W1
    httpIn('w1_in', '/w1', 'post', [['w1_code']]),
    fn('w1_code', 'code', `const p = msg.payload;\nmsg.payload = ${STEP1_EXPR};\nreturn msg;`, [['w1_out']]),
    httpOut('w1_out'),
    // W3
    httpIn('w3_in', '/w3', 'post', [['w3_ack', 'w3_code1']]),
    httpOut('w3_ack', '202'),
    fn('w3_code1', 'code 1', `const p = msg.payload;\nmsg.payload = ${STEP1_EXPR};\nreturn msg;`, [
      ['w3_code2'],
    ]),
    fn(
      'w3_code2',
      'code 2',
      `const p = msg.payload;\nmsg.payload = ${STEP2_EXPR};\nglobal.set('w3done', (global.get('w3done') || 0) + 1);\nreturn null;`,
      [[]],
    ),
    httpIn('w3_count_in', '/w3/count', 'get', [['w3_count']]),
    fn('w3_count', 'count', `msg.payload = { completed: global.get('w3done') || 0 };\nreturn msg;`, [
      ['w3_count_out'],
    ]),
    httpOut('w3_count_out'),
  ];
}
