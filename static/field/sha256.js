/* The field app's one SHA-256: photos, signatures and the seal hash with it, and the server
 * compares the lower-case hex it gives (crypto.subtle: secure contexts only, as the app is). */

/** SHA-256 of text (hashed as UTF-8) or bytes (ArrayBuffer or a typed array), as lower-case
 *  hex. */
export async function sha256Hex(data) {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
