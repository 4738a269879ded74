/**
 * The workloads' code steps, the same computation in every system (each system wraps it in its own
 * calling convention: Node-RED `msg.payload`, n8n `$input.first().json`, Gridflow's code node).
 */
/** W1 and W3 step 1: `{ n2: n*2, len: text.length, upper: text.toUpperCase() }`. */
export const STEP1_EXPR = '{ n2: p.n * 2, len: p.text.length, upper: p.text.toUpperCase() }';
/** W3 step 2: marks the result as done. */
export const STEP2_EXPR = '{ ...p, done: true }';
