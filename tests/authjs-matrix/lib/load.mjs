// Loads a package from one matrix package directory's node_modules, whatever the
// directory of the module that asks: the previews are shared by every package directory,
// so they cannot rely on Node's resolution from their own location. The loaded package
// then resolves its own dependencies (@auth/core, …) from that same node_modules.
//
//   const { ExpressAuth } = await importFrom(packageDir, "@auth/express");

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The ES module entry of `exports["."]` (import, else default), else module or main. */
function entryOf(pkg) {
  const pick = (e) => {
    if (typeof e === "string") return e;
    if (!e || typeof e !== "object") return undefined;
    return pick(e.import) ?? pick(e.node) ?? pick(e.default);
  };
  const dot = pkg.exports && (typeof pkg.exports === "string" || !("." in pkg.exports) ? pkg.exports : pkg.exports["."]);
  return pick(dot) ?? pkg.module ?? pkg.main ?? "index.js";
}

/** Imports `name` as installed in `packageDir`/node_modules. */
export async function importFrom(packageDir, name) {
  const dir = join(packageDir, "node_modules", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return import(pathToFileURL(join(dir, entryOf(pkg))).href);
}

/** The version of `name` installed in `packageDir`/node_modules. */
export function installedVersion(packageDir, name) {
  return JSON.parse(readFileSync(join(packageDir, "node_modules", name, "package.json"), "utf8")).version;
}
