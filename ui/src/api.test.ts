import { describe, expect, it } from 'vitest';
import { baseUrl, basePath } from './api';

describe('base URL under a path prefix', () => {
  it('uses the <base href> the server wrote', () => {
    const doc = { baseURI: 'https://sextant.example.com/sextant/' };
    expect(baseUrl(doc)).toBe('https://sextant.example.com/sextant/');
    expect(basePath(doc)).toBe('/sextant');
    expect(new URL('api/v1/applications', baseUrl(doc)).pathname).toBe('/sextant/api/v1/applications');
  });

  it('drops the file part, query and fragment of the document URL', () => {
    expect(baseUrl({ baseURI: 'http://h:8080/applications/web?x=1#y' })).toBe('http://h:8080/applications/');
    expect(baseUrl({ baseURI: 'http://h:8080/' })).toBe('http://h:8080/');
    expect(basePath({ baseURI: 'http://h:8080/' })).toBe('');
  });
});
