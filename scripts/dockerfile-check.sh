#!/usr/bin/env bash
# The fast half of the container check, run by CI on every change: copies exactly what the
# Dockerfile's build stage copies into an empty directory and runs the image's build command
# there, so a Dockerfile that forgets a path Cargo.toml names (a target, a workspace member)
# fails here. It builds in the dev profile into this tree's target directory, so after the
# test suite only the crate itself is compiled again (about a minute), not every dependency.
# The slow half (`sudo scripts/container-check.sh`) builds and runs the image with podman.
set -euo pipefail
cd "$(dirname "$0")/.."

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

# The sources of every COPY in the first stage (not `COPY --from=`), as the build sees them.
mapfile -t sources < <(awk '
  toupper($1) == "FROM" { stage++ }
  stage == 1 && toupper($1) == "COPY" {
    n = 0
    for (i = 2; i <= NF; i++) if ($i !~ /^--/) args[++n] = $i
    if ($0 ~ /--from=/) next
    for (i = 1; i < n; i++) print args[i]
  }' Dockerfile)
[ ${#sources[@]} -gt 0 ] || { echo "dockerfile check: no COPY in the build stage" >&2; exit 1; }

for source in "${sources[@]}"; do
  [ -e "$source" ] || { echo "dockerfile check: the Dockerfile copies $source, which does not exist" >&2; exit 1; }
  mkdir -p "$context/$(dirname "$source")"
  cp -R "$source" "$context/$(dirname "$source")/"
done

target=$PWD/target
if ! (cd "$context" && cargo build --locked --quiet --bin conversation-gateway --target-dir "$target"); then
  echo "dockerfile check: the image's build fails on what the Dockerfile copies (${sources[*]})" >&2
  exit 1
fi
echo "dockerfile check: the image's build command builds from exactly what the Dockerfile copies (${sources[*]})"
