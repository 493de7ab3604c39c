import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base64ToHex,
  canonicalBody,
  canonicalJson,
  hexToBase64,
  sha256Base64,
  sha256Hex,
} from '../../../../handlers/domain/hashing';

describe('hashing', () => {
  it('computes SHA-256 in hex and in the base64 form S3 checksums use', () => {
    // Prepare
    const text = 'evidence';
    const expected = createHash('sha256').update(text).digest();

    // Act
    const hex = sha256Hex(text);
    const b64 = sha256Base64(text);

    // Assess
    expect(hex).toBe(expected.toString('hex'));
    expect(b64).toBe(expected.toString('base64'));
    expect(hexToBase64(hex)).toBe(b64);
    expect(base64ToHex(b64)).toBe(hex);
  });

  it('serializes the same value identically whatever the key order', () => {
    // Prepare
    const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [3, { y: 2, z: 1 }] }, b: 1 };

    // Act
    const ca = canonicalJson(a);
    const cb = canonicalJson(b);

    // Assess
    expect(ca).toBe(cb);
    expect(ca).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('follows JSON.stringify for undefined, dates, non-finite numbers and escapes, and round-trips', () => {
    // Prepare
    const value = {
      u: undefined,
      d: new Date('2025-01-01T00:00:00.000Z'),
      n: Number.NaN,
      list: [undefined, 1.5, -0, 1e21],
      s: 'line\n"quoted" é',
    };

    // Act
    const out = canonicalJson(value);

    // Assess
    expect(out).toBe('{"d":"2025-01-01T00:00:00.000Z","list":[null,1.5,0,1e+21],"n":null,"s":"line\\n\\"quoted\\" é"}');
    expect(canonicalJson(JSON.parse(out))).toBe(out);
  });

  it('rejects values without a JSON form', () => {
    // Prepare
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;

    // Act / Assess
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson({ big: 1n })).toThrow(TypeError);
  });

  it('hashes exactly the canonical body', () => {
    // Act
    const { body, sha256 } = canonicalBody({ z: 1, a: 2 });

    // Assess
    expect(body).toBe('{"a":2,"z":1}');
    expect(sha256).toBe(sha256Hex(body));
  });
});
