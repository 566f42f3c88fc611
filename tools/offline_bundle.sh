#!/usr/bin/env bash
# Packs what a GPU host without internet or Deno needs to run a Denoformer worker (docs/gpu.md,
# "Hosts without internet or Deno"): this machine's Deno binary and the project with its
# node_modules (onnxruntime-node's libonnxruntime.so.1 and its bundled WebGPU provider included),
# each xz-compressed, plus install.sh to unpack them there. `deno compile` cannot do this job
# offline: it downloads a runtime for the target.
#
#   deno task offline-bundle [OUT.tar]      (default denoformer-offline-<os>-<arch>.tar)
#
# Run it on an online machine of the GPU host's OS and CPU architecture, in a checkout where
# `deno install --frozen` has run. The project is the checkout's HEAD (committed files only).
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "offline_bundle.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
out="$(realpath -m "${1:-denoformer-offline-${os}-${arch}.tar}")"
deno_bin="$(readlink -f "$(command -v deno)")" || { echo "offline_bundle.sh: deno is not on PATH" >&2; exit 1; }
ort="$(echo "${root}"/node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node)"
if [ ! -f "${ort}/bin/napi-v6/${os}/${arch}/libonnxruntime.so.1" ]; then
  echo "offline_bundle.sh: ${ort} lacks the ${os}/${arch} runtime; run \`deno install --frozen\` first" >&2
  exit 1
fi

stage="$(mktemp -d)"
trap 'rm -rf "${stage}"' EXIT
echo "packing $("${deno_bin}" --version | head -1) ..." >&2
xz -T0 -6 -c "${deno_bin}" >"${stage}/deno.xz"

echo "packing the project at $(git -C "${root}" rev-parse --short HEAD) and node_modules ..." >&2
mkdir -p "${stage}/app"
git -C "${root}" archive --format=tar HEAD | tar -x -C "${stage}/app"
# onnxruntime-node ships every platform's binaries; the host needs only its own.
excludes=()
for dir in "${ort}"/bin/napi-v6/*/*; do
  [ "${dir}" = "${ort}/bin/napi-v6/${os}/${arch}" ] || excludes+=("--exclude=${dir#"${root}/"}")
done
# POSIX format: node_modules holds symlinks with targets longer than ustar allows.
tar --format=posix -cf "${stage}/denoformer.tar" "${excludes[@]}" \
  -C "${stage}/app" . -C "${root}" node_modules
rm -rf "${stage}/app"
xz -T0 -6 "${stage}/denoformer.tar"

cat >"${stage}/install.sh" <<'INSTALL'
#!/usr/bin/env bash
# Unpacks the bundle into DIR (default /opt/denoformer): DIR/bin/deno and the project in DIR/app.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(realpath -m "${1:-/opt/denoformer}")"
mkdir -p "${dir}/bin" "${dir}/app" "${dir}/cache"
xz -dc "${here}/deno.xz" >"${dir}/bin/deno"
chmod +x "${dir}/bin/deno"
tar -xJf "${here}/denoformer.tar.xz" -C "${dir}/app"
"${dir}/bin/deno" --version | head -1
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  echo "warning: no Vulkan loader (libvulkan.so.1): --device webgpu needs the libvulkan1 package" >&2
  echo "         (the GPU driver brings the Vulkan driver itself; see app/docs/gpu.md)" >&2
fi
cat <<EOF
Installed. Run a worker with:
  cd ${dir}/app && DENO_DIR=${dir}/cache ${dir}/bin/deno run --allow-all --cached-only \\
    worker/training/worker_main.ts --coordinator HOST:PORT --token TOKEN --device webgpu
EOF
INSTALL
chmod +x "${stage}/install.sh"

mkdir -p "$(dirname "${out}")"
tar -cf "${out}" -C "${stage}" deno.xz denoformer.tar.xz install.sh
echo "wrote ${out} ($(du -h "${out}" | cut -f1)); on the GPU host: tar xf $(basename "${out}") && ./install.sh DIR" >&2
