/**
 * A 64-bit (two FNV-1a lanes) hex hash of a value's JSON form. Pure JavaScript, so it runs in
 * workflow sandboxes; used to key recorded outputs by their input.
 */
export function inputHash(value: unknown): string {
  const s = JSON.stringify(value) ?? 'undefined';
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}
