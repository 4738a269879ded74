import { describe, expect, it } from 'vitest';
import {
  combine,
  compare,
  InvalidPatternError,
  isEmptyValue,
  looselyEqual,
  toRegExp,
} from './conditions.js';

describe('compare', () => {
  it('eq / neq coerce form-typed numbers and booleans', () => {
    expect(compare(85, 'eq', '85')).toBe(true);
    expect(compare('85', 'eq', 85)).toBe(true);
    expect(compare(true, 'eq', 'true')).toBe(true);
    expect(compare('approved', 'eq', 'approved')).toBe(true);
    expect(compare('Approved', 'eq', 'approved')).toBe(false);
    expect(compare('Approved', 'eq', 'approved', { caseSensitive: false })).toBe(true);
    expect(compare('85', 'eq', '085')).toBe(false); // two strings compare as text
    expect(compare(null, 'eq', undefined)).toBe(true);
    expect(compare({ a: 1, b: [2] }, 'eq', { b: [2], a: 1 })).toBe(true);
    expect(compare(1, 'neq', 2)).toBe(true);
  });

  it('orders numbers, ISO dates and strings', () => {
    expect(compare(85, 'gte', '80')).toBe(true);
    expect(compare(79.5, 'gt', 80)).toBe(false);
    expect(compare(80, 'lte', 80)).toBe(true);
    expect(compare('2026-11-23T10:00:00Z', 'lt', '2026-11-24')).toBe(true);
    expect(compare('b', 'gt', 'a')).toBe(true);
    expect(compare({}, 'gt', 1)).toBe(false);
    expect(compare(undefined, 'lt', 1)).toBe(false);
  });

  it('contains works on strings, arrays and object keys', () => {
    expect(compare('Launch day #ai', 'contains', '#AI', { caseSensitive: false })).toBe(true);
    expect(compare(['linkedin', 'x'], 'contains', 'x')).toBe(true);
    expect(compare([1, 2], 'contains', '2')).toBe(true);
    expect(compare({ score: 1 }, 'contains', 'score')).toBe(true);
    expect(compare('abc', 'notContains', 'z')).toBe(true);
    expect(compare(null, 'contains', 'a')).toBe(false);
  });

  it('startsWith / endsWith / matches', () => {
    expect(compare('https://x.com/p/1', 'startsWith', 'https://')).toBe(true);
    expect(compare('report.pdf', 'endsWith', '.PDF', { caseSensitive: false })).toBe(true);
    expect(compare('order-1234', 'matches', '^order-\\d+$')).toBe(true);
    expect(compare('ORDER-1', 'matches', '/^order-\\d+$/i')).toBe(true);
    expect(compare(42, 'matches', '^4')).toBe(true);
    expect(() => compare('x', 'matches', '(')).toThrow(InvalidPatternError);
  });

  it('exists / isEmpty family', () => {
    expect(compare(0, 'exists', undefined)).toBe(true);
    expect(compare(null, 'notExists', undefined)).toBe(true);
    expect(compare('  ', 'isEmpty', undefined)).toBe(true);
    expect(compare([], 'isEmpty', undefined)).toBe(true);
    expect(compare({ a: 1 }, 'isNotEmpty', undefined)).toBe(true);
    expect(isEmptyValue(0)).toBe(false);
    expect(isEmptyValue(false)).toBe(false);
  });
});

describe('helpers', () => {
  it('combine: and/or, empty group never matches', () => {
    expect(combine('and', [true, true])).toBe(true);
    expect(combine('and', [true, false])).toBe(false);
    expect(combine('or', [false, true])).toBe(true);
    expect(combine('or', [])).toBe(false);
    expect(combine('and', [])).toBe(false);
  });
  it('toRegExp drops stateful flags so repeated tests agree', () => {
    const re = toRegExp('/a/g', true);
    expect(re.flags).toBe('');
    expect(re.test('a') && re.test('a')).toBe(true);
  });
  it('looselyEqual does not equate numeric strings with other text', () => {
    expect(looselyEqual('1', 'one')).toBe(false);
    expect(looselyEqual(1, 'one')).toBe(false);
  });
});
