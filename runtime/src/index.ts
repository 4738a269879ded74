export * from './document.js';
export * from './errors.js';
export * from './node-type.js';
export * from './engine.js';
