//! Host bindings generated from `rules-wasm/wit/rule.wit` (the `conftrail:rule@0.1.0` world).

wasmtime::component::bindgen!({
    path: "rules-wasm/wit",
    world: "rule",
});
