/* The device's database: IndexedDB through idb, with a versioned schema.
 *
 * It is the source of truth on the phone until the server confirms (a receipt).
 *   packs    visit packs for offline use, by visit number
 *   records  the current draft of each visit's record, by record_id (one per visit)
 *   outbox   the upload queue, in order (auto-increment `seq`); `key` is the revision or
 *            photo UUID the server echoes in its receipt
 *   photos   evidence photos: bytes as ArrayBuffer + type (Safari loses Blobs in IndexedDB),
 *            sha256 of the upload and of the original, metadata and a small thumbnail
 *   meta     small values: the signed-in user, the last visit list
 *   signatures  (v2) signatures drawn on the phone: strokes, SVG and PNG (base64) as
 *            data, with their SHA-256; by uuid, index `visit` (static/field/sign.js)
 * A new schema version adds an `if (oldVersion < N)` step; steps are never edited.
 */
import { openDB } from '../vendor/idb/index.js';

export const DB_NAME = 'field-app';
export const DB_VERSION = 2;

let opening = null;

export function db() {
  if (!opening) {
    opening = openDB(DB_NAME, DB_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore('packs', { keyPath: 'number' });
          const records = database.createObjectStore('records', { keyPath: 'record_id' });
          records.createIndex('visit', 'visit', { unique: true });
          const outbox = database.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
          outbox.createIndex('key', 'key', { unique: true });
          outbox.createIndex('record', 'record_id');
          outbox.createIndex('status', 'status');
          const photos = database.createObjectStore('photos', { keyPath: 'uuid' });
          photos.createIndex('visit', 'visit');
          database.createObjectStore('meta');
        }
        if (oldVersion < 2) {
          const signatures = database.createObjectStore('signatures', { keyPath: 'uuid' });
          signatures.createIndex('visit', 'visit');
        }
      },
      blocking() {
        // A newer version of the app wants to upgrade the schema in another tab: let it.
        opening.then((database) => database.close());
        opening = null;
      },
    });
  }
  return opening;
}

export async function getMeta(key) {
  return (await db()).get('meta', key);
}

export async function setMeta(key, value) {
  return (await db()).put('meta', value, key);
}
