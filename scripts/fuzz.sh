#!/usr/bin/env bash
# make fuzz: every Go fuzz target in the repository (func FuzzXxx(*testing.F)
# in a *_test.go file, tracked or new), each for FUZZTIME (default 20s), one
# after another. Targets are found by name, so ones added later are included.
# A failing target does not stop the others; the exit code is 1 if any failed
# (the failing input is saved under the package's testdata/fuzz/<Target>/).
#   FUZZTIME=5s make fuzz          shorter, e.g. in CI
#   FUZZ_PARALLEL=1 make fuzz      fuzzing workers per target (default: GOMAXPROCS)
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
parallel=()
if [[ -n ${FUZZ_PARALLEL:-} ]]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi

# "dir target" per fuzz target, sorted.
mapfile -t targets < <(
	git ls-files --cached --others --exclude-standard -- '*_test.go' |
		xargs -r grep -HoE '^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' |
		sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#; s#^[^/ ]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#. \1#' |
		sort -u
)
if ((${#targets[@]} == 0)); then
	echo "fuzz: no fuzz targets found" >&2
	exit 2
fi
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"

failed=()
for t in "${targets[@]}"; do
	dir=${t% *} name=${t#* }
	printf '\n== %s (./%s)\n' "$name" "$dir"
	if ! "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "${parallel[@]}" "./$dir"; then
		failed+=("$name (./$dir)")
	fi
done

echo
if ((${#failed[@]} > 0)); then
	printf 'fuzz: %d of %d targets failed:\n' "${#failed[@]}" "${#targets[@]}"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed ($FUZZTIME each)"
