import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/errors/oauth-errors.js';
import { parseUrlEncoded, rawQuery } from '../../../src/http/form-body.js';
import { formBody, singleParams } from '../../../src/http/params.js';

describe('http/form-body and http/params', () => {
  it('keeps repeated keys', () => {
    expect({ ...parseUrlEncoded('a=1&a=2&b=3') }).toEqual({ a: ['1', '2'], b: ['3'] });
  });

  it('decodes + and percent-encoding as UTF-8', () => {
    expect({ ...parseUrlEncoded('a=x+y&b=%C3%A9&c=%F0%9F%98%80') }).toEqual({ a: ['x y'], b: ['é'], c: ['😀'] });
  });

  it.each(['a=%FF', '%FF=a', 'a=%C0%AF', 'a=%ED%A0%80', 'a=%E2%82', 'a=x%00y', '%00=a'])('refuses non-UTF-8 bytes and NUL: %s', (text) => {
    expect(() => parseUrlEncoded(text)).toThrow(InvalidRequest);
    expect(() => parseUrlEncoded(text)).toThrow('parameters must be UTF-8 text without NUL characters');
  });

  it('is safe with keys like __proto__', () => {
    const params = parseUrlEncoded('__proto__=x&constructor=y');
    expect(params.__proto__).toEqual(['x']);
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('rawQuery reads the query of a URL, or nothing', () => {
    expect({ ...rawQuery('/p?a=1&a=2') }).toEqual({ a: ['1', '2'] });
    expect({ ...rawQuery('/p') }).toEqual({});
  });

  it('singleParams refuses a repeated parameter and names it', () => {
    expect(() => singleParams(parseUrlEncoded('scope=a&scope=a'))).toThrow('scope must not be repeated');
  });

  it('singleParams treats an empty value as omitted', () => {
    expect(singleParams(parseUrlEncoded('a=&b=1'))).toEqual({ b: '1' });
  });

  it.each([undefined, 'application/json', 'text/plain', 'multipart/form-data', 'application/x-www-form'])(
    'formBody refuses content type %s',
    (type) => {
      expect(() => formBody({}, type)).toThrow('the request body must be application/x-www-form-urlencoded');
    },
  );

  it('formBody accepts the form type with parameters and in any case', () => {
    expect(formBody({ a: ['1'] }, 'Application/X-WWW-Form-Urlencoded; charset=utf-8')).toEqual({ a: ['1'] });
    expect(formBody(undefined, 'application/x-www-form-urlencoded')).toEqual({});
  });
});
