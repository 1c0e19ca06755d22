// Loads the bundled extension with a stand-in for the `vscode` module (any
// property is a constructible function) and checks its entry points.
"use strict";
const Module = require("module");
function standIn() {
  const cache = new Map();
  const target = function () {};
  return new Proxy(target, {
    get(t, key) {
      if (key === "prototype") return t.prototype;
      if (typeof key === "symbol") return t[key];
      if (!cache.has(key)) cache.set(key, standIn());
      return cache.get(key);
    },
    construct() { return standIn(); },
    apply() { return standIn(); },
  });
}
const vscode = standIn();
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "vscode" ? vscode : load.call(this, request, ...rest);
};
const ext = require(process.argv[2]);
for (const name of ["activate", "deactivate"]) {
  if (typeof ext[name] !== "function") {
    console.error(`the bundle exports no ${name}()`);
    process.exit(1);
  }
}
console.log("the bundle loads and exports activate() and deactivate()");
