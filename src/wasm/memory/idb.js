// The origin's IndexedDB for `identity.persist` (src/wasm/memory/mod.rs): database "fabstir-sdk",
// one object store, "kept", of values by name. Each call opens the database and closes it when
// its transaction completes, so no page holds it open against another tab. Requests chain in
// their callbacks (not across awaits) so that each call is one transaction.
const DB = "fabstir-sdk";
const STORE = "kept";

function kept(mode, use) {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") throw new Error("this page has no IndexedDB");
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onerror = () => reject(open.error);
    open.onblocked = () => reject(new Error("the database is blocked by another tab"));
    open.onsuccess = () => {
      const db = open.result;
      let result;
      try {
        const tx = db.transaction(STORE, mode);
        tx.oncomplete = () => { db.close(); resolve(result); };
        tx.onabort = tx.onerror = () => { db.close(); reject(tx.error || new Error("aborted")); };
        use(tx.objectStore(STORE), (value) => { result = value; });
      } catch (e) {
        db.close();
        reject(e);
      }
    };
  });
}

/** The value kept under `name`: `fresh` (stored now) when there is none or `replace` is set. */
export function keepKey(name, fresh, replace) {
  return kept("readwrite", (store, answer) => {
    if (replace) {
      store.put(fresh, name);
      answer(fresh);
      return;
    }
    const get = store.get(name);
    get.onsuccess = () => {
      if (get.result instanceof Uint8Array) {
        answer(get.result);
      } else {
        store.put(fresh, name);
        answer(fresh);
      }
    };
  });
}

/** The value kept under `name`, or undefined. */
export function readKept(name) {
  return kept("readonly", (store, answer) => {
    const get = store.get(name);
    get.onsuccess = () => answer(get.result);
  });
}

/** Keeps `value` under `name`. */
export function writeKept(name, value) {
  return kept("readwrite", (store) => store.put(value, name));
}
