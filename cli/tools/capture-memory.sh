#!/bin/sh
# Memory capture, run ON THE SUSPECT HOST by Run Command (AWS-RunShellScript) from the capture volume, a copy of the
# tools snapshot that `forensics tools build` made (handlers/domain/memory-capture.ts: TOOLS_VOLUME, CAPTURE_SCRIPT_ARGS).
#
#   /bin/sh <mountPoint>/bin/capture-memory.sh <mountPoint> <toolSha256>
#
# What it does, and why:
# - Runs only the pinned AVML: the binary's SHA-256 must equal <toolSha256> (passed in the command by the workflow
#   from configuration, not read from the volume), else it refuses and runs nothing.
# - Never overwrites evidence: an image (or its hash file) already on the volume is a refusal, not a retry.
# - Writes the compressed image and its SHA-256 onto the capture volume only: no network, no AWS CLI, no credentials
#   (the host is compromised; what it is given it may keep). The volume is snapshotted into the evidence chain later.
# - Prints exactly one result line on stdout, `FORENSICS_MEMORY_RESULT {json}`, which the workflow parses
#   (parseMemoryScriptResult). AVML's own output goes to stderr so it can never forge that line.
# POSIX sh (no bash): it must run on any Linux the instance boots.
set -u
umask 077

PREFIX='FORENSICS_MEMORY_RESULT '
IMAGE_REL='memory/memory.lime.snappy'

# Keeps a reason JSON-safe and on one line: drops quotes, backslashes and control characters, bounds the length.
clean() {
  printf '%s' "$1" | tr -d "\"\\\\" | tr '\000-\037' ' ' | cut -c1-400
}

# The result line; `refused` and `failed` exit non-zero after printing it.
emit() {
  printf '%s%s\n' "$PREFIX" "$1"
}
refuse() {
  emit "{\"status\":\"refused\",\"reason\":\"$(clean "$1")\"${2:+,\"toolSha256\":\"$2\"}}"
  exit 3
}
failed() {
  emit "{\"status\":\"failed\",\"reason\":\"$(clean "$1")\",\"image\":\"$IMAGE_REL\"${2:+,\"toolSha256\":\"$2\"}}"
  exit 1
}

# The first field of sha256sum's output (coreutils and busybox print the same format).
sha256_of() {
  sha256sum "$1" 2>/dev/null | cut -d' ' -f1
}

# After AVML failed: the likeliest reason, worded for the responder (lockdown and unreadable sources first).
why_avml_failed() {
  code="$1"
  tail_of_stderr="$2"
  if [ -r /sys/kernel/security/lockdown ] && grep -q '\[confidentiality\]' /sys/kernel/security/lockdown 2>/dev/null; then
    echo "kernel lockdown (confidentiality) forbids reading memory (/proc/kcore, /dev/mem, /dev/crash): avml exited $code"
  elif [ ! -r /proc/kcore ] && [ ! -r /dev/crash ] && [ ! -r /dev/mem ]; then
    echo "no readable memory source (/proc/kcore, /dev/crash, /dev/mem): avml exited $code"
  else
    echo "avml exited $code: $tail_of_stderr"
  fi
}

[ "$#" -eq 2 ] || refuse "usage: capture-memory.sh <mountPoint> <toolSha256>"
mount_point="$1"
pinned="$2"
case "$pinned" in
  *[!0-9a-f]*) refuse "the pinned tool SHA-256 is not lowercase hex" ;;
esac
[ "${#pinned}" -eq 64 ] || refuse "the pinned tool SHA-256 is not 64 hex characters"
[ -d "$mount_point" ] || refuse "mount point $mount_point is not a directory"

avml="$mount_point/bin/avml"
image="$mount_point/$IMAGE_REL"
[ -f "$avml" ] || refuse "no tool at bin/avml on the capture volume"

# The pinned binary or nothing: a tampered or substituted tools volume never runs.
actual=$(sha256_of "$avml")
[ -n "$actual" ] || refuse "cannot hash bin/avml"
[ "$actual" = "$pinned" ] || refuse "bin/avml SHA-256 $actual is not the pinned $pinned" "$actual"

# Evidence is written once: an earlier capture (or anything in its place) is never replaced.
if [ -e "$image" ] || [ -e "$image.sha256" ]; then
  refuse "$IMAGE_REL already exists on the capture volume: never overwritten" "$actual"
fi
mkdir -p "$mount_point/memory" || failed "cannot create memory/ on the capture volume" "$actual"

# The capture. --compress: snappy page compression (smaller volume, faster write). AVML picks the first working
# source among /dev/crash, /proc/kcore, /dev/mem. Its stdout goes to stderr: only this script writes stdout.
err_file="$mount_point/memory/avml.stderr"
"$avml" --compress "$image" >"$err_file" 2>&1
code=$?
cat "$err_file" >&2
if [ "$code" -ne 0 ]; then
  failed "$(why_avml_failed "$code" "$(tail -c 300 "$err_file" | tr '\n' ' ')")" "$actual"
fi
[ -s "$image" ] || failed "avml exited 0 but wrote no image" "$actual"

# The image's hash, computed here, next to it in sha256sum format (relative name: `sha256sum -c` in memory/ works),
# and in the result line, which the workflow records in the custody log the moment it reads it.
sha=$(sha256_of "$image")
[ -n "$sha" ] || failed "cannot hash the image" "$actual"
size=$(wc -c <"$image" | tr -d ' ')
( set -C; printf '%s  %s\n' "$sha" "${IMAGE_REL##*/}" >"$image.sha256" ) || failed "cannot write $IMAGE_REL.sha256" "$actual"
# Flush to the volume before the command unmounts and the workflow detaches it.
sync

emit "{\"status\":\"captured\",\"sha256\":\"$sha\",\"sizeBytes\":$size,\"image\":\"$IMAGE_REL\",\"toolSha256\":\"$actual\"}"
