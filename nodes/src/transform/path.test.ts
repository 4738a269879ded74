import { describe, expect, it } from 'vitest';
import {
  cloneJson,
  deletePath,
  getPath,
  isSimplePath,
  parsePath,
  PathSyntaxError,
  setPath,
  toJson,
} from './path.js';

describe('parsePath', () => {
  it('splits dots, indices and quoted keys', () => {
    expect(parsePath('a.b[0].c')).toEqual(['a', 'b', 0, 'c']);
    expect(parsePath('meta["x id"].v')).toEqual(['meta', 'x id', 'v']);
    expect(parsePath("meta['it\\'s']")).toEqual(['meta', "it's"]);
    expect(parsePath('items.0.title')).toEqual(['items', '0', 'title']);
    expect(parsePath('headers.content-type')).toEqual(['headers', 'content-type']);
    expect(parsePath('')).toEqual([]);
  });

  it('rejects malformed paths', () => {
    expect(() => parsePath('a..b')).toThrow(PathSyntaxError);
    expect(() => parsePath('a[')).toThrow(PathSyntaxError);
    expect(() => parsePath('a b')).toThrow(PathSyntaxError);
  });

  it('tells paths from expressions', () => {
    expect(isSimplePath('input.score')).toBe(true);
    expect(isSimplePath('items[1].id')).toBe(true);
    expect(isSimplePath('input.score > 80')).toBe(false);
    expect(isSimplePath('a.b()')).toBe(false);
    expect(isSimplePath('')).toBe(false);
  });
});

describe('getPath', () => {
  const data = { a: { b: [{ c: 1 }, { c: 2 }] }, n: null, list: [10, 20] };
  it('reads nested values and returns undefined for missing parts', () => {
    expect(getPath(data, 'a.b[1].c')).toBe(2);
    expect(getPath(data, 'a.b.0.c')).toBe(1);
    expect(getPath(data, 'list.length')).toBe(2);
    expect(getPath(data, 'a.x.y')).toBeUndefined();
    expect(getPath(data, 'n.x')).toBeUndefined();
    expect(getPath(data, '')).toBe(data);
  });
  it('does not read inherited properties', () => {
    expect(getPath({}, 'constructor')).toBeUndefined();
    expect(getPath({ a: 'x' }, 'a.length')).toBeUndefined();
  });
});

describe('setPath / deletePath', () => {
  it('creates intermediate objects and arrays', () => {
    const root: Record<string, unknown> = {};
    setPath(root, 'a.b.c', 1);
    setPath(root, 'list[1].name', 'x');
    expect(root).toEqual({ a: { b: { c: 1 } }, list: [undefined, { name: 'x' }] });
  });
  it('overwrites scalars on the way', () => {
    const root: Record<string, unknown> = { a: 5 };
    setPath(root, 'a.b', 2);
    expect(root).toEqual({ a: { b: 2 } });
  });
  it('refuses prototype keys and the empty path', () => {
    expect(() => setPath({}, '__proto__.polluted', true)).toThrow(PathSyntaxError);
    expect(() => setPath({}, 'a.constructor.prototype', 1)).toThrow(PathSyntaxError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => setPath({}, '', 1)).toThrow(PathSyntaxError);
  });
  it('deletes keys and splices array elements', () => {
    const root = { a: { b: 1, c: 2 }, list: [1, 2, 3] };
    expect(deletePath(root, 'a.b')).toBe(true);
    expect(deletePath(root, 'list[1]')).toBe(true);
    expect(deletePath(root, 'a.zzz')).toBe(false);
    expect(deletePath(root, 'list[9]')).toBe(false);
    expect(root).toEqual({ a: { c: 2 }, list: [1, 3] });
  });
});

describe('cloneJson / toJson', () => {
  it('copies deeply and maps undefined to null', () => {
    const v = { a: [1, { b: 2 }] };
    const c = cloneJson(v);
    expect(c).toEqual(v);
    expect(c.a).not.toBe(v.a);
    expect(toJson(undefined)).toBeNull();
    expect(toJson({ a: undefined, d: new Date(0) })).toEqual({ d: '1970-01-01T00:00:00.000Z' });
  });
});
