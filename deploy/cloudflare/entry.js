// The Worker's entry module: instantiates the relay's wasm module (built by build.sh)
// once per isolate and hands every request to its `fetch` export, the adapter in
// src/lib.rs. Written by hand: it is the part of worker-build's generated shim this
// Worker needs.
import { initSync, fetch as relayFetch } from "./build/authrelay.js";
import wasm from "./build/authrelay_bg.wasm";

initSync({ module: wasm });

export default {
  fetch(request, env, ctx) {
    return relayFetch(request, env, ctx);
  },
};
