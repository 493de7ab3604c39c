#!/bin/bash
# User data of the short-lived tools builder that `forensics tools build` launches in the forensic workstation VPC
# (cli/commands/tools-build.ts prepends the values below). It writes the tools volume the memory capture copies:
#
#   ext4, label FORENSICTOOLS:  bin/avml  bin/capture-memory.sh  TOOLS.json   (handlers/domain/memory-capture.ts)
#
# then prints one result line on the console and powers off (the instance is launched to terminate on shutdown).
# Why each step:
# - The files come from the evidence bucket's tools/ prefix through the VPC's S3 gateway endpoint (the VPC has no
#   internet), and each one's SHA-256 must equal the hash the command computed on the responder's machine: a
#   changed byte anywhere on the way means no tools volume.
# - Only a blank volume is formatted: the device is found by the volume id the command attached (NVMe serial),
#   and anything carrying a signature (a file system, a partition table) is refused, never overwritten.
# - The result goes to the serial console (the command reads it with ec2:GetConsoleOutput): the builder needs no
#   permission to report, and writes nothing anywhere but the tools volume.
# Test mode (no device, no S3): `tools-builder-user-data.sh --verify-dir DIR` checks DIR's files against the hashes.
set -u -o pipefail

FORENSICS_TOOLS_BUCKET="${FORENSICS_TOOLS_BUCKET:-}"
FORENSICS_TOOLS_PREFIX="${FORENSICS_TOOLS_PREFIX:-}"
FORENSICS_REGION="${FORENSICS_REGION:-}"
FORENSICS_TOOLS_VOLUME_ID="${FORENSICS_TOOLS_VOLUME_ID:-}"
FORENSICS_TOOLS_LABEL="${FORENSICS_TOOLS_LABEL:-FORENSICTOOLS}"
AVML_SHA256="${AVML_SHA256:-}"
SCRIPT_SHA256="${SCRIPT_SHA256:-}"
MANIFEST_SHA256="${MANIFEST_SHA256:-}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
MOUNT_POINT=/mnt/forensic-tools-build
RESULT_PREFIX='FORENSICS_TOOLS_BUILD '

# One line on stdout and the serial console (cloud-init's log may not reach the console on every image).
result() {
  printf '%s%s\n' "$RESULT_PREFIX" "$1"
  printf '%s%s\n' "$RESULT_PREFIX" "$1" >/dev/console 2>/dev/null || true
}

fail() {
  local reason=${1//\"/\'}
  result "{\"status\":\"failed\",\"volumeId\":\"$FORENSICS_TOOLS_VOLUME_ID\",\"reason\":\"${reason//\\/}\"}"
  if mountpoint -q "$MOUNT_POINT" 2>/dev/null; then umount "$MOUNT_POINT" || true; fi
  power_off
  exit 1
}

power_off() {
  [[ ${NO_POWER_OFF:-} == 1 ]] && return 0
  sync
  shutdown -h now
}

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

# The three files in DIR against the pinned hashes; prints the first mismatch and returns 1.
verify_dir() {
  local dir="$1" name want got
  for name in bin/avml bin/capture-memory.sh TOOLS.json; do
    case "$name" in
      bin/avml) want="$AVML_SHA256" ;;
      bin/capture-memory.sh) want="$SCRIPT_SHA256" ;;
      TOOLS.json) want="$MANIFEST_SHA256" ;;
    esac
    [[ -f $dir/$name ]] || { echo "$name missing"; return 1; }
    got=$(sha256_of "$dir/$name")
    [[ $got == "$want" ]] || { echo "$name SHA-256 $got is not the expected $want"; return 1; }
  done
}

# The block device of the attached volume: the NVMe serial is the volume id without its hyphen (Nitro); Xen names
# it by the attach device. Bounded wait: the command attaches the volume after the instance starts.
find_device() {
  local serial="${FORENSICS_TOOLS_VOLUME_ID/-/}" waited=0 dev
  while ((waited < WAIT_SECONDS)); do
    for dev in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serial}" /dev/xvdf /dev/sdf; do
      if [[ -b $dev ]]; then readlink -f "$dev"; return 0; fi
    done
    sleep 5
    waited=$((waited + 5))
  done
  return 1
}

build() {
  [[ $FORENSICS_TOOLS_VOLUME_ID =~ ^vol-[0-9a-f]+$ ]] || fail "no tools volume id"
  local dev root_disk
  dev=$(find_device) || fail "volume $FORENSICS_TOOLS_VOLUME_ID did not appear within ${WAIT_SECONDS}s"
  root_disk=$(lsblk -no PKNAME "$(findmnt -n -o SOURCE /)" 2>/dev/null | head -1)
  [[ -n $root_disk && $dev == "/dev/$root_disk" ]] && fail "$dev is the builder's root disk"
  # Blank or nothing: blkid -p exits 2 when it finds no signature at all.
  blkid -p "$dev" >/dev/null 2>&1
  [[ $? -eq 2 ]] || fail "$dev is not blank (a signature was found): refusing to format it"
  mkfs.ext4 -q -L "$FORENSICS_TOOLS_LABEL" -m 0 "$dev" || fail "mkfs.ext4 failed on $dev"
  mkdir -p "$MOUNT_POINT"
  mount -t ext4 "$dev" "$MOUNT_POINT" || fail "mount failed"
  mkdir -p "$MOUNT_POINT/bin"
  local name
  for name in bin/avml bin/capture-memory.sh TOOLS.json; do
    aws s3api get-object --bucket "$FORENSICS_TOOLS_BUCKET" --key "${FORENSICS_TOOLS_PREFIX}${name##*/}" \
      ${FORENSICS_REGION:+--region "$FORENSICS_REGION"} "$MOUNT_POINT/$name" >/dev/null || fail "cannot read ${FORENSICS_TOOLS_PREFIX}${name##*/}"
  done
  local problem
  problem=$(verify_dir "$MOUNT_POINT") || fail "$problem"
  chmod 0555 "$MOUNT_POINT/bin/avml" "$MOUNT_POINT/bin/capture-memory.sh"
  chmod 0444 "$MOUNT_POINT/TOOLS.json"
  sync
  umount "$MOUNT_POINT" || fail "umount failed"
  result "{\"status\":\"built\",\"volumeId\":\"$FORENSICS_TOOLS_VOLUME_ID\",\"avmlSha256\":\"$AVML_SHA256\",\"scriptSha256\":\"$SCRIPT_SHA256\",\"manifestSha256\":\"$MANIFEST_SHA256\"}"
  power_off
}

main() {
  if [[ ${1:-} == --verify-dir ]]; then
    verify_dir "${2:?--verify-dir needs a directory}"
    return
  fi
  build
}

main "$@"
