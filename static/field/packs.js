/* Visit packs: downloading a visit for offline use (GET /api/v1/field/visits/<n>/pack) into
 * the `packs` store. Used by the visit list (views.js) and by the team leader's screen
 * (leader.js: the pack again after the arrangement changed). */
import { getJson } from './api.js';
import { putPack } from './db.js';
import * as editor from './editor.js';
import { localIso } from './ui.js';

/** Download a visit's pack and keep it with its ETag. `ctx` is app.js's: persistent storage
 *  is asked for once a visit is on the phone. A visit sealed on another device gets its record
 *  with the pack (editor.serverRecord), for offline use. Throws what getJson throws. */
export async function downloadPack(number, ctx) {
  const { json, response } = await getJson(`/api/v1/field/visits/${encodeURIComponent(number)}/pack`);
  await putPack({
    number, pack: json, etag: response.headers.get('ETag'), downloaded_at: localIso(),
  });
  ctx.requestPersist();
  const server = await editor.serverRecord(number, { force: true });
  if (server.phase === 'auth') ctx.authRequired();
}
