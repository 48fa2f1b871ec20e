#!/usr/bin/env bash
# test_openapi_generated.sh GATEWAY SOURCE_DIR: the committed
# services/gateway/openapi.json is what its generator writes from the
# .proto files and the gateway's own route table (one source for the
# document: a hand edit, or a proto or route changed without regenerating,
# fails here and says how to regenerate).
set -euo pipefail
gateway="$1" src="$2"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
python3 "$src/services/gateway/tools/openapi.py" "$gateway" >"$tmp"
python3 - "$src/services/gateway/openapi.json" "$tmp" <<'PY'
import json, sys
committed, generated = (json.load(open(p)) for p in sys.argv[1:3])
def walk(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b:
                out.append(f"only in the committed file: {path}/{k}")
            elif k not in a:
                out.append(f"missing from the committed file: {path}/{k}")
            else:
                walk(a[k], b[k], f"{path}/{k}", out)
    elif a != b:
        out.append(f"differs: {path}")
out = []
walk(committed, generated, "", out)
if out:
    print("services/gateway/openapi.json is not what its generator writes:")
    print("\n".join("  " + line for line in out[:40]))
    if len(out) > 40:
        print(f"  ... and {len(out) - 40} more")
    print("Regenerate it (never edit it by hand):\n"
          "  python3 services/gateway/tools/openapi.py build/services/gateway/pmo-gateway"
          " > services/gateway/openapi.json")
    sys.exit(1)
print("openapi.json: the generator's output")
PY
