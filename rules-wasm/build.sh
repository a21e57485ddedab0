#!/usr/bin/env bash
# Builds conftrail's WebAssembly rules and copies each rule's core module into dist/:
#   dist/<rule-name>.wasm        managed rules (rules/<rule-name>/)
#   dist/test/<name>.wasm        hostile test rules for the host's tests (test-rules/<name>/)
#   dist/examples/<dir>.wasm     example custom rules (../examples/<dir>/ with a Cargo.toml:
#                                standalone crates with their own workspace and Cargo.lock)
#
# Usage:
#   rules-wasm/build.sh           rebuild dist/ (commit the result)
#   rules-wasm/build.sh --check   build in a temporary directory and compare with the committed
#                                 dist/ byte for byte (CI); fails naming the files that differ
#
# The build is reproducible across checkout locations: absolute paths of this directory, of the
# examples and of the cargo home are remapped (/rules-wasm, /examples/<dir>, /cargo),
# dependencies come from each workspace's Cargo.lock (--locked), and the release profile strips
# symbols and debug info. The same rustc version is needed to get the same bytes (the committed
# files were built with the version in dist/RUSTC_VERSION).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
cd "$here"

check=0
case "${1:-}" in
"") ;;
--check) check=1 ;;
-h | --help)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac

target=wasm32-unknown-unknown
if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed | grep -qx "$target"; then
        echo "installing the $target target" >&2
        rustup target add "$target"
    fi
fi

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
if [ -d "$cargo_home" ]; then
    cargo_home="$(cd "$cargo_home" && pwd -P)"
fi

if [ "$check" = 1 ]; then
    work="$(mktemp -d "${TMPDIR:-/tmp}/conftrail-rules-wasm.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    target_dir="$work/target"
    out="$work/dist"
else
    target_dir="$here/target"
    out="$here/dist"
fi

# Example custom rules: ../examples/<dir>/ holding a Cargo.toml (examples/data has none).
examples=()
if [ -d "$here/../examples" ]; then
    for dir in "$here"/../examples/*/; do
        if [ -f "$dir/Cargo.toml" ]; then
            examples+=("$(cd "$dir" && pwd -P)")
        fi
    done
fi

# Download the locked dependencies first, so that their source directories exist below.
cargo fetch --locked --target "$target"
for dir in "${examples[@]}"; do
    cargo fetch --locked --target "$target" --manifest-path "$dir/Cargo.toml"
done

# Flags are passed with CARGO_ENCODED_RUSTFLAGS (separated by 0x1f) so that paths with spaces
# survive; it overrides RUSTFLAGS and build.rustflags, which are cleared for the same reason.
# Later prefixes win in rustc, so the most specific ones come last. Registry source directories
# carry a hash of the registry that differs between cargo versions: they become one name.
sep=$'\x1f'
flags="--remap-path-prefix=$cargo_home=/cargo${sep}--remap-path-prefix=$here=/rules-wasm"
for registry in "$cargo_home"/registry/src/*/; do
    [ -d "$registry" ] && flags="$flags${sep}--remap-path-prefix=${registry%/}=/cargo/registry/src/crates.io"
done
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
export CARGO_ENCODED_RUSTFLAGS="$flags"
export CARGO_INCREMENTAL=0

cargo build --release --locked --workspace --target "$target" --target-dir "$target_dir"

# Each example is a workspace of its own, and cargo hashes the absolute path of a path
# dependency outside the workspace (here the SDK) into `-C metadata`, which changes the bytes
# with the checkout location. So an example is built from a staged copy in which the SDK sits
# inside it: target/examples-stage/<dir>/ holds the example (without target/) and rules-wasm/
# (this Cargo.toml, for the inherited fields, sdk/ and wit/); its Cargo.toml's
# "../../rules-wasm/" becomes "rules-wasm/" and its [workspace] gets exclude = ["rules-wasm"].
# Nothing else changes. Copies keep their mtimes, so unchanged sources are not rebuilt. Its
# own target directory (target/examples): sharing one with other RUSTFLAGS would rebuild the
# common dependencies at every run.
for dir in "${examples[@]}"; do
    name="$(basename "$dir")"
    stage="$target_dir/examples-stage/$name"
    if ! grep -q '"\.\./\.\./rules-wasm/' "$dir/Cargo.toml" || ! grep -q '^\[workspace\]' "$dir/Cargo.toml"; then
        echo "error: examples/$name/Cargo.toml: needs a [workspace] table and the SDK at path \"../../rules-wasm/sdk\"" >&2
        exit 1
    fi
    rm -rf "$stage"
    mkdir -p "$stage/rules-wasm"
    (cd "$dir" && tar --exclude=./target -cf - .) | (cd "$stage" && tar -xf -)
    cp -pR Cargo.toml sdk wit "$stage/rules-wasm/"
    sed -e 's#"\.\./\.\./rules-wasm/#"rules-wasm/#' \
        -e '/^\[workspace\]/a\
exclude = ["rules-wasm"]' "$dir/Cargo.toml" >"$stage/Cargo.toml"
    CARGO_ENCODED_RUSTFLAGS="$flags${sep}--remap-path-prefix=$stage=/examples/$name${sep}--remap-path-prefix=$stage/rules-wasm=/rules-wasm" \
        cargo build --release --locked --target "$target" --target-dir "$target_dir/examples" \
        --manifest-path "$stage/Cargo.toml"
done

built="$target_dir/$target/release"
mkdir -p "$out/test" "$out/examples"
find "$out" -maxdepth 2 -name '*.wasm' -delete
produced=()
for kind in rules test-rules; do
    for dir in "$kind"/*/; do
        name="$(basename "$dir")"
        crate="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n 1)"
        if [ "$crate" != "$name" ]; then
            echo "error: $dir: the crate must be named like its directory ($name), not $crate" >&2
            exit 1
        fi
        if [ "$kind" = rules ]; then dest="$name.wasm"; else dest="test/$name.wasm"; fi
        cp "$built/${name//-/_}.wasm" "$out/$dest"
        produced+=("$dest")
    done
done
for dir in "${examples[@]}"; do
    crate="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n 1)"
    dest="examples/$(basename "$dir").wasm"
    cp "$target_dir/examples/$target/release/${crate//-/_}.wasm" "$out/$dest"
    produced+=("$dest")
done
rustc --version >"$out/RUSTC_VERSION"

if [ "$check" = 0 ]; then
    for f in "${produced[@]}"; do
        printf '%8d  dist/%s\n' "$(wc -c <"$out/$f")" "$f"
    done
    echo "dist/ rebuilt ($(rustc --version)); commit rules-wasm/dist/ together with the sources."
    exit 0
fi

# --check: compare with the committed files.
differ=()
for f in "${produced[@]}"; do
    if ! cmp -s "$out/$f" "$here/dist/$f"; then
        differ+=("dist/$f")
    fi
done
while IFS= read -r f; do
    rel="${f#"$here"/}"
    if [ ! -e "$out/${rel#dist/}" ]; then
        differ+=("$rel (stale: no crate builds it)")
    fi
done < <(find "$here/dist" -maxdepth 2 -name '*.wasm' 2>/dev/null | sort)

if [ "${#differ[@]}" -ne 0 ]; then
    {
        echo "error: the committed rule modules do not match their sources:"
        printf '  %s\n' "${differ[@]}"
        echo "Run rules-wasm/build.sh and commit rules-wasm/dist/."
        if ! cmp -s "$out/RUSTC_VERSION" "$here/dist/RUSTC_VERSION" 2>/dev/null; then
            echo "Note: dist/ was built with $(cat "$here/dist/RUSTC_VERSION" 2>/dev/null || echo 'an unknown rustc'), this is $(cat "$out/RUSTC_VERSION"); the bytes depend on the compiler version."
        fi
    } >&2
    exit 1
fi
echo "dist/ matches the sources (${#produced[@]} modules, $(cat "$out/RUSTC_VERSION"))."
