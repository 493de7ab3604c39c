#!/bin/bash
# Forensic workstation user data (loaded by infra/constructs/forensic-workstation.ts into the launch template).
#
# At first boot: read the case id and the volume map from the instance tags (IMDSv2, instance metadata tags), wait
# for the evidence volumes the acquisition attaches after launch, then mount EVERY partition of every evidence volume
# READ-ONLY and write a mount report to s3://<evidence bucket>/cases/<caseId>/analysis/mount-report-<instance>.json.
#
# Read-only, in depth: the block devices are set read-only (blockdev --setro) before anything mounts them, and the
# mount options come from one function (mount_options) that never yields rw:
#   ext3/ext4  ro,noload               (no journal replay: replaying would write to the evidence)
#   xfs        ro,norecovery,nouuid    (no log recovery; nouuid: copies of one file system share a UUID)
#   other fs   ro
#   swap, LVM2_member, crypto_LUKS, linux_raid_member, no file system: not mounted (reported, for manual analysis)
# The disk that holds the root file system (and any disk with a mounted partition) is never touched.
# A memory capture volume among them (memory/memory.lime.snappy at its root) gets the image's SHA-256 recomputed and
# compared with the hash the suspect host wrote next to it (memory_image_report), both in the report.
#
# Test and dry-run mode (no IMDS, no mount, no S3):
#   user-data.sh --plan-from LSBLK_FILE [--root-disk NAME]
# LSBLK_FILE is the output of `lsblk -P -o NAME,TYPE,FSTYPE,SERIAL,PKNAME,MOUNTPOINT`; the script prints the commands
# it would run, one per line, and a "skip" line for what it would not mount.
set -u -o pipefail

# Values the IR stack prepends (environment-specific); defaults keep plan mode and manual runs working.
FORENSICS_EVIDENCE_BUCKET="${FORENSICS_EVIDENCE_BUCKET:-}"
FORENSICS_TAG_PREFIX="${FORENSICS_TAG_PREFIX:-forensics}"
FORENSICS_REGION="${FORENSICS_REGION:-}"
# Object Lock retention of what this script writes to the evidence bucket, as every evidence object (the IR stack
# sets them from forensics:objectLockMode and forensics:evidenceRetentionDays).
FORENSICS_RETENTION_MODE="${FORENSICS_RETENTION_MODE:-COMPLIANCE}"
FORENSICS_RETENTION_DAYS="${FORENSICS_RETENTION_DAYS:-365}"
MOUNT_ROOT="${MOUNT_ROOT:-/mnt/evidence}"
WAIT_SECONDS="${WAIT_SECONDS:-900}"
LSBLK_COLUMNS="NAME,TYPE,FSTYPE,SERIAL,PKNAME,MOUNTPOINT"

# Writes a file to the evidence bucket as every evidence object is written: SHA-256 checksum (S3 refuses bytes that
# hash otherwise), written once (--if-none-match '*', which the bucket policy requires; AWS CLI v2 from 2024 on), its
# own Object Lock retention (mode, now + the configured days) and a legal hold.
put_evidence() {
  local file="$1" key="$2" until
  until=$(date -u -d "+${FORENSICS_RETENTION_DAYS} days" +%Y-%m-%dT%H:%M:%SZ)
  aws s3api put-object --bucket "$FORENSICS_EVIDENCE_BUCKET" --key "$key" --body "$file" \
    --content-type application/json --checksum-algorithm SHA256 --if-none-match '*' \
    --object-lock-mode "$FORENSICS_RETENTION_MODE" --object-lock-retain-until-date "$until" \
    --object-lock-legal-hold-status ON \
    ${FORENSICS_REGION:+--region "$FORENSICS_REGION"} --output text --query VersionId
}

# The one place that decides how a file system is mounted. Prints the options, or nothing (= do not mount).
mount_options() {
  case "$1" in
    ext3 | ext4) echo "ro,noload" ;;
    xfs) echo "ro,norecovery,nouuid" ;;
    "" | swap | LVM2_member | crypto_LUKS | linux_raid_member | zfs_member | iso9660_boot) echo "" ;;
    *) echo "ro" ;;
  esac
}

# Why a file system type is not mounted (for the report).
skip_reason() {
  case "$1" in
    "") echo "no file system found" ;;
    swap) echo "swap space (analyse the raw device)" ;;
    LVM2_member) echo "LVM physical volume: activate read-only by hand (vgchange -ay --readonly)" ;;
    crypto_LUKS) echo "LUKS encrypted: needs the key" ;;
    *) echo "$1: not mounted automatically" ;;
  esac
}

# Value of KEY="value" in one lsblk -P line (no eval: labels and serials on evidence are attacker-controlled).
field() {
  local line="$2" re="(^|[[:space:]])$1=\"([^\"]*)\""
  if [[ $line =~ $re ]]; then printf '%s' "${BASH_REMATCH[2]}"; fi
}

# Serial of a Nitro EBS device is the volume id without the dash (vol0abc… → vol-0abc…).
volume_id_of_serial() {
  local s="$1"
  [[ $s == vol* && $s != vol-* ]] && s="vol-${s#vol}"
  printf '%s' "$s"
}

# Plan: reads lsblk -P lines on stdin, prints one action per line:
#   setro <dev>                      blockdev --setro
#   mount <dev> <fstype> <options> <mountpoint> <serial>
#   skip <dev> <fstype|-> <reason>
plan_mounts() {
  local root_disk="$1" lines=() line name type pkname mp
  local -A skip_disk=()
  [[ -n $root_disk ]] && skip_disk[$root_disk]=1
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    lines+=("$line")
    mp=$(field MOUNTPOINT "$line")
    if [[ -n $mp ]]; then
      type=$(field TYPE "$line")
      name=$(field NAME "$line")
      pkname=$(field PKNAME "$line")
      # Any disk with something mounted (the root disk, /boot/efi...) is the workstation's own.
      if [[ $type == disk ]]; then skip_disk[$name]=1; elif [[ -n $pkname ]]; then skip_disk[$pkname]=1; fi
    fi
  done
  local -A has_parts=() serial_of=()
  local serial
  for line in "${lines[@]}"; do
    name=$(field NAME "$line")
    type=$(field TYPE "$line")
    pkname=$(field PKNAME "$line")
    [[ $type == part && -n $pkname ]] && has_parts[$pkname]=1
    if [[ $type == disk ]]; then
      serial=$(field SERIAL "$line")
      # Only the characters a volume id has: the serial must never shape a path or a command.
      serial_of[$name]=$(volume_id_of_serial "${serial//[^A-Za-z0-9_-]/_}")
    fi
  done
  local fstype opts disk target
  for line in "${lines[@]}"; do
    name=$(field NAME "$line")
    type=$(field TYPE "$line")
    fstype=$(field FSTYPE "$line")
    pkname=$(field PKNAME "$line")
    # Kernel names and blkid types are [A-Za-z0-9_-]; anything else is refused rather than quoted.
    if [[ ! $name =~ ^[A-Za-z0-9_-]+$ || ! $fstype =~ ^[A-Za-z0-9_-]*$ ]]; then
      echo "skip /dev/${name//[^A-Za-z0-9_-]/_} - unexpected characters in the device name or type"
      continue
    fi
    case "$type" in
      disk) disk="$name" ;;
      part) disk="$pkname" ;;
      *) continue ;; # lvm, crypt, loop, rom: never automatic
    esac
    if [[ -n ${skip_disk[$disk]:-} ]]; then
      [[ $type == disk ]] && echo "skip /dev/$name ${fstype:--} workstation root or in use: never touched"
      continue
    fi
    serial="${serial_of[$disk]:-}"
    if [[ $type == disk ]]; then
      echo "setro /dev/$name"
      # A partitioned disk is mounted by partition; a whole-disk file system directly.
      [[ -n ${has_parts[$name]:-} ]] && continue
    else
      echo "setro /dev/$name"
    fi
    opts=$(mount_options "$fstype")
    if [[ -z $opts ]]; then
      echo "skip /dev/$name ${fstype:--} $(skip_reason "$fstype")"
      continue
    fi
    if [[ ,$opts, == *,rw,* || ,$opts, != *,ro,* ]]; then
      echo "refusing /dev/$name: options '$opts' are not read-only" >&2
      return 3
    fi
    target="$MOUNT_ROOT/${serial:-$disk}/$name"
    echo "mount /dev/$name $fstype $opts $target $serial"
  done
}

# The commands a plan stands for (what --plan-from prints, and what a real run executes).
plan_to_commands() {
  local verb dev fstype opts target rest
  while read -r verb dev fstype opts target rest; do
    case "$verb" in
      setro) echo "blockdev --setro $dev" ;;
      mount) echo "mkdir -p $target && mount -t $fstype -o $opts $dev $target" ;;
      skip) echo "# skip $dev ($fstype): $opts${target:+ $target}${rest:+ $rest}" ;;
    esac
  done
}

# A memory capture volume (its root holds memory/memory.lime.snappy, written by the capture script on the suspect
# host): recompute the image's SHA-256 here and compare it with the .sha256 file written next to it on the host.
# Prints a JSON member for the mount report, or nothing when the file system holds no image. Reads only (the mount is
# read-only); a multi-GiB image takes a while to hash, which delays the report, not the analysis.
memory_image_report() {
  local root="$1" image recorded computed match
  image="$root/memory/memory.lime.snappy"
  # Regular files only, never through a symlink: the evidence is attacker-shaped (a link to /proc/kcore would never end).
  [[ -d $root/memory && ! -L $root/memory && -f $image && ! -L $image ]] || return 0
  [[ -L $image.sha256 ]] && return 0
  recorded=""
  [[ -f $image.sha256 ]] && recorded=$(head -c 64 "$image.sha256")
  [[ $recorded =~ ^[0-9a-f]{64}$ ]] || recorded=""
  computed=$(sha256sum "$image" | cut -d' ' -f1)
  if [[ -z $recorded ]]; then match=null; elif [[ $computed == "$recorded" ]]; then match=true; else match=false; fi
  local recorded_json=null
  [[ -n $recorded ]] && recorded_json="\"$recorded\""
  printf ',"memoryImage":{"path":"memory/memory.lime.snappy","sizeBytes":%s,"sha256":"%s","recordedSha256":%s,"match":%s}' \
    "$(stat -c %s "$image")" "$computed" "$recorded_json" "$match"
}

imds() {
  local token
  token=$(curl -sS -m 5 -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') || return 1
  curl -sS -m 5 -f -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"
}

json_escape() {
  local s="$1"
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/ }
  printf '%s' "$s"
}

run() {
  local case_id instance_id expected tags key
  case_id=$(imds "meta-data/tags/instance/${FORENSICS_TAG_PREFIX}:case-id") || { echo "no case id tag: not a forensic workstation" >&2; exit 1; }
  instance_id=$(imds meta-data/instance-id)
  expected=$(imds "meta-data/tags/instance/${FORENSICS_TAG_PREFIX}:evidence-volumes" || echo 0)
  local -A source_of=()
  tags=$(imds meta-data/tags/instance || true)
  for key in $tags; do
    if [[ $key == "${FORENSICS_TAG_PREFIX}:source-of:"* ]]; then
      source_of[${key##*:}]=$(imds "meta-data/tags/instance/$key")
    fi
  done

  # Wait (bounded) for the evidence volumes: they are attached after the instance started.
  local waited=0 present
  while :; do
    present=$(lsblk -dn -o SERIAL | grep -c '^vol' || true)
    (( present - 1 >= expected )) && break
    (( waited >= WAIT_SECONDS )) && break
    sleep 10
    waited=$((waited + 10))
  done
  udevadm settle || true

  local root_src root_disk
  root_src=$(findmnt -n -o SOURCE /)
  root_disk=$(lsblk -no PKNAME "$root_src" 2>/dev/null | head -1)
  [[ -z $root_disk ]] && root_disk=$(basename "$root_src")

  local plan entries="" verb dev fstype opts target serial status reason vol memory
  plan=$(lsblk -P -o "$LSBLK_COLUMNS" | plan_mounts "$root_disk") || { echo "plan refused" >&2; exit 3; }
  while read -r verb dev fstype opts target serial; do
    case "$verb" in
      setro) blockdev --setro "$dev" ;;
      mount)
        mkdir -p "$target"
        if mount -t "$fstype" -o "$opts" "$dev" "$target"; then status=mounted; reason=""; else status=failed; reason="mount failed"; fi
        vol="$serial"
        memory=""
        [[ $status == mounted ]] && memory=$(memory_image_report "$target")
        entries+="{\"device\":\"$dev\",\"workstationVolumeId\":\"$vol\",\"sourceVolumeId\":\"${source_of[$vol]:-unknown}\",\"mountPoint\":\"$target\",\"filesystem\":\"$fstype\",\"options\":\"$opts\",\"status\":\"$status\",\"reason\":\"$reason\"$memory},"
        ;;
      skip)
        reason="$opts${target:+ $target}${serial:+ $serial}"
        entries+="{\"device\":\"$dev\",\"filesystem\":\"$fstype\",\"status\":\"skipped\",\"reason\":\"$(json_escape "$reason")\"},"
        ;;
    esac
  done <<<"$plan"

  local report=/var/log/forensics-mount-report.json
  printf '{"caseId":"%s","instanceId":"%s","generatedAt":"%s","rootDisk":"%s","expectedVolumes":%s,"mounts":[%s]}\n' \
    "$(json_escape "$case_id")" "$instance_id" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$root_disk" "${expected:-0}" "${entries%,}" >"$report"
  if [[ -n $FORENSICS_EVIDENCE_BUCKET ]]; then
    # Written like every evidence object (the bucket policy refuses anything else): once (If-None-Match: *), with a
    # SHA-256 checksum, its own retention and a legal hold (put_evidence).
    put_evidence "$report" "cases/${case_id}/analysis/mount-report-${instance_id}.json" >/dev/null
  fi
}

main() {
  if [[ ${1:-} == --plan-from ]]; then
    local file="${2:?--plan-from needs a file}" root_disk=""
    [[ ${3:-} == --root-disk ]] && root_disk="${4:-}"
    plan_mounts "$root_disk" <"$file" | plan_to_commands
    return "${PIPESTATUS[0]}"
  fi
  run
}

main "$@"
